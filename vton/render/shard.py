"""Render one shard of a run's plan: load assets, render in batches, publish images, write
the shard's index file.

A shard is the unit of retry: everything here is idempotent (deterministic output keys,
atomic writes, the index file replaced whole at the end), so running a shard twice, or
after a crash half-way, leaves exactly one index row per planned pair.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow.compute as pc

from vton.cloth.prep import ClothAsset, load_cloth_asset
from vton.errors import one_line
from vton.failures import failure_status
from vton.imageio import encode_image
from vton.index import read_index_shard, write_index_shard
from vton.lru import LruCache
from vton.paths import plan_key, tryon_key, tryon_mask_key, tryon_warp_key
from vton.person.prep import PersonAsset, load_person_asset
from vton.render.base import Renderer, RenderOutput, RenderRequest
from vton.render.registry import RendererOptions
from vton.schemas import PLAN_SCHEMA, STATUSES, ShardResult
from vton.storage import Store

__all__ = ["RunContext", "render_shard", "read_plan_shard"]

#: Called after each pair with (shard, pairs done in shard, pairs in shard).
ProgressFn = Callable[[int, int, int], None]


@dataclass(frozen=True)
class RunContext:
    """What every shard of a run shares."""

    run_id: str
    run_date: dt.date
    renderer: str
    model_digest: str
    output_format: str
    masker: str
    renderer_options: RendererOptions = field(default_factory=RendererOptions)
    #: 1 for the run itself, n for its (n-1)th `rerun-failed`; recorded on each new row.
    attempt: int = 1


def read_plan_shard(store: Store, run_id: str, shard: int) -> list[dict]:
    table = store.read_parquet(plan_key(run_id), schema=PLAN_SCHEMA)
    return table.filter(pc.equal(table["shard"], shard)).to_pylist()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def render_shard(
    store: Store,
    ctx: RunContext,
    shard: int,
    renderer: Renderer,
    progress: ProgressFn | None = None,
    resume: bool = False,
) -> ShardResult:
    """Render every to-do pair of `shard` and write its index file; returns the counts.

    Pairs already decided by the plan (invalid, skipped) are copied to the index as they
    are. A pair whose assets cannot be loaded or rendered is recorded with its error; only
    a failure to write the index itself raises. With `resume`, pairs that this run's
    existing index file for the shard already records as done (not failed) are kept as
    they are: re-running a shard re-renders only its failed pairs.
    """
    started = time.perf_counter()
    plan = read_plan_shard(store, ctx.run_id, shard)
    if not plan:
        raise ValueError(f"run {ctx.run_id} has no shard {shard}")
    kept: dict[str, dict] = {}
    if resume:
        existing = read_index_shard(store, ctx.run_date, shard)
        if existing is not None:
            kept = {
                r["pair_id"]: r
                for r in existing.to_pylist()
                if r["run_id"] == ctx.run_id and r["status"] != "failed"
            }
    rows: list[dict] = []
    todo: list[dict] = []
    for p in plan:
        row = {
            "run_id": ctx.run_id, "pair_id": p["pair_id"], "product_id": p["product_id"],
            "person_id": p["person_id"], "category": p["category"], "renderer": ctx.renderer,
            "model_digest": ctx.model_digest, "input_digest": p["input_digest"],
            "status": p["status"], "error": p["error"], "output_uri": p["output_uri"],
            "warp_uri": p["warp_uri"], "mask_uri": p["mask_uri"], "masker": ctx.masker,
            "notes": p["notes"], "attempt": ctx.attempt,
        }  # fmt: skip
        # A re-plan sees this run's own published images and calls their pairs `skipped`;
        # the record of the run must still say it rendered them, so its ok rows are kept.
        prior = kept.get(p["pair_id"])
        if prior is not None and (
            p["status"] in (None, prior["status"])
            or (prior["status"] == "ok" and p["status"] == "skipped")
        ):
            row = prior
        rows.append(row)
        if row["status"] is None:
            todo.append(row)
        elif row["status"] not in ("ok", "skipped"):
            row.update(output_uri=None, warp_uri=None, mask_uri=None)
    done = len(plan) - len(todo)
    if progress:
        progress(shard, done, len(plan))

    plan_by_pair = {p["pair_id"]: p for p in plan}
    loader = _AssetLoader(store, plan_by_pair)
    # Grouped by garment, so each garment's assets load once (the index keeps plan order).
    todo.sort(key=lambda r: (plan_by_pair[r["pair_id"]]["cloth_key"], r["pair_id"]))
    batch_size = max(1, renderer.batch_size)
    batches = [todo[i : i + batch_size] for i in range(0, len(todo), batch_size)]
    # A three-stage pipeline: while the renderer computes batch k, a thread decodes the
    # assets of batch k+1 and others encode and store the images of batch k-1. Decoding,
    # encoding and storage release the GIL, so a GPU (or the renderer's own threads) is
    # not left waiting on I/O. At most three batches are in memory at once.
    with (
        ThreadPoolExecutor(1, thread_name_prefix="vton-load") as load_pool,
        ThreadPoolExecutor(_PUBLISH_THREADS, thread_name_prefix="vton-publish") as pub_pool,
    ):
        next_load = load_pool.submit(loader.load, batches[0]) if batches else None
        publishing: list[Future] = []
        for k, batch in enumerate(batches):
            requests, load_s = next_load.result()
            if k + 1 < len(batches):
                next_load = load_pool.submit(loader.load, batches[k + 1])
            t0 = time.perf_counter()
            outputs = renderer.render_batch([r for _, r in requests]) if requests else []
            per_pair_ms = (time.perf_counter() - t0 + load_s) * 1000 / len(batch)
            done += _wait_all(publishing)
            if progress and publishing:
                progress(shard, done, len(plan))
            publishing = [
                pub_pool.submit(_publish_or_record, store, ctx, row, out, per_pair_ms)
                for (row, _), out in zip(requests, outputs, strict=True)
            ]
            done += len(batch) - len(requests)  # pairs whose assets did not load
        done += _wait_all(publishing)
        if progress and batches:
            progress(shard, done, len(plan))

    key = write_index_shard(store, ctx.run_date, shard, rows)
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row["status"]] += 1
    return ShardResult(shard, key, counts, time.perf_counter() - started)


#: Threads that encode and store images while the next batch renders.
_PUBLISH_THREADS = 4
#: Assets kept in memory per shard (see `_AssetLoader`).
_MAX_CACHED_CLOTH = 8
_MAX_CACHED_PERSONS = 256


class _AssetLoader:
    """Loads the assets of a batch of pairs, keeping the most recently used ones.

    The caches are bounded so that a shard's memory does not grow with the catalog: a
    garment's assets hold a 1024x768 copy (3 MB), and a shard of a large catalog may touch
    a thousand garments. Pairs are rendered grouped by garment (`render_order`), so a
    garment is loaded once per shard and the persons, usually far fewer, stay cached.
    """

    def __init__(
        self,
        store: Store,
        plan_by_pair: dict[str, dict],
        max_cloth: int = _MAX_CACHED_CLOTH,
        max_persons: int = _MAX_CACHED_PERSONS,
    ) -> None:
        self.store = store
        self.plan_by_pair = plan_by_pair
        self.cloth: LruCache[ClothAsset] = LruCache(max_cloth)
        self.person: LruCache[PersonAsset] = LruCache(max_persons)

    def load(self, batch: list[dict]) -> tuple[list[tuple[dict, RenderRequest]], float]:
        """Requests for the pairs whose assets load (the others are recorded as failed),
        and the seconds it took."""
        t0 = time.perf_counter()
        requests = []
        for row in batch:
            p = self.plan_by_pair[row["pair_id"]]
            ck, pk = p["cloth_key"], p["person_key"]
            try:
                cloth = self.cloth.get_or_make(ck, lambda ck=ck: load_cloth_asset(self.store, ck))
                person = self.person.get_or_make(
                    pk, lambda pk=pk: load_person_asset(self.store, pk)
                )
                requests.append((row, RenderRequest(row["pair_id"], cloth, person, ck, pk)))
            except Exception as exc:
                _record_failure(row, exc)
        return requests, time.perf_counter() - t0


def _wait_all(futures: list[Future]) -> int:
    """Wait for publish jobs (they never raise: failures are recorded on the row)."""
    for f in futures:
        f.result()
    return len(futures)


def _publish_or_record(
    store: Store, ctx: RunContext, row: dict, out: RenderOutput | Exception, per_pair_ms: float
) -> None:
    if isinstance(out, Exception):
        _record_failure(row, out)
        return
    try:
        _publish(store, ctx, row, out)
    except Exception as exc:
        _record_failure(row, exc)
    row["elapsed_ms"] = per_pair_ms


def _record_failure(row: dict, exc: BaseException) -> None:
    row.update(
        status=failure_status(exc),
        error=one_line(exc),
        output_uri=None,
        warp_uri=None,
        mask_uri=None,
    )


def _publish(store: Store, ctx: RunContext, row: dict, out: RenderOutput) -> None:
    """Write the pair's images (try-on last: its presence means the pair is complete)."""
    prod, pers = row["product_id"], row["person_id"]
    warp_uri = mask_uri = None
    if out.warped_cloth is not None:
        warp_uri = store.write_bytes(
            tryon_warp_key(ctx.renderer, prod, pers), encode_image(out.warped_cloth, "png")
        )
    if out.composition_mask is not None:
        mask_uri = store.write_bytes(
            tryon_mask_key(ctx.renderer, prod, pers), encode_image(out.composition_mask, "png")
        )
    output_uri = store.write_bytes(
        tryon_key(ctx.renderer, prod, pers, ctx.output_format),
        encode_image(out.tryon, ctx.output_format),
    )
    notes = sorted(set(filter(None, (row["notes"] or "").split(","))) | set(out.notes))
    h, w = out.tryon.shape[:2]
    row.update(
        status="ok",
        error=None,
        output_uri=output_uri,
        warp_uri=warp_uri,
        mask_uri=mask_uri,
        width=w,
        height=h,
        rendered_at=_now(),
        notes=",".join(notes) or None,
    )

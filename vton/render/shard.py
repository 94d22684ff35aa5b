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
from dataclasses import dataclass, field

import pyarrow.compute as pc

from vton.cloth.prep import ClothAsset, load_cloth_asset
from vton.errors import one_line, status_for_exception
from vton.imageio import encode_image
from vton.index import read_index_shard, write_index_shard
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
            "notes": p["notes"],
        }  # fmt: skip
        if p["pair_id"] in kept and p["status"] in (None, kept[p["pair_id"]]["status"]):
            row = kept[p["pair_id"]]
        rows.append(row)
        if row["status"] is None:
            todo.append(row)
        elif row["status"] not in ("ok", "skipped"):
            row.update(output_uri=None, warp_uri=None, mask_uri=None)
    done = len(plan) - len(todo)
    if progress:
        progress(shard, done, len(plan))

    cloth_cache: dict[str, ClothAsset] = {}
    person_cache: dict[str, PersonAsset] = {}
    plan_by_pair = {p["pair_id"]: p for p in plan}
    batch_size = max(1, renderer.batch_size)
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        t0 = time.perf_counter()
        requests: list[tuple[dict, RenderRequest]] = []
        for row in batch:
            p = plan_by_pair[row["pair_id"]]
            try:
                if p["cloth_key"] not in cloth_cache:
                    cloth_cache[p["cloth_key"]] = load_cloth_asset(store, p["cloth_key"])
                if p["person_key"] not in person_cache:
                    person_cache[p["person_key"]] = load_person_asset(store, p["person_key"])
                requests.append(
                    (
                        row,
                        RenderRequest(
                            row["pair_id"],
                            cloth_cache[p["cloth_key"]],
                            person_cache[p["person_key"]],
                        ),
                    )
                )
            except Exception as exc:
                _record_failure(row, exc)
        outputs = renderer.render_batch([r for _, r in requests]) if requests else []
        per_pair_ms = (time.perf_counter() - t0) * 1000 / max(1, len(batch))
        for (row, _), out in zip(requests, outputs, strict=True):
            if isinstance(out, Exception):
                _record_failure(row, out)
                continue
            try:
                _publish(store, ctx, row, out)
            except Exception as exc:
                _record_failure(row, exc)
            row["elapsed_ms"] = per_pair_ms
        done += len(batch)
        if progress:
            progress(shard, done, len(plan))

    key = write_index_shard(store, ctx.run_date, shard, rows)
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row["status"]] += 1
    return ShardResult(shard, key, counts, time.perf_counter() - started)


def _record_failure(row: dict, exc: BaseException) -> None:
    row.update(
        status=status_for_exception(exc),
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

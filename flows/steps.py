"""Flow steps shared by the nightly run and `rerun-failed`: fan prep out in chunks, fan
render out per shard, and collect results without letting one crashed task lose the run's
bookkeeping."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import dask
from prefect.futures import PrefectFuture, wait

from tasks import progress
from tasks.prep import task_prepare_cloth, task_prepare_person
from tasks.render import task_render_shard
from vton.config import RunSettings
from vton.errors import one_line
from vton.render.shard import RunContext
from vton.schemas import PersonRow, PreparedItem, ProductRow, ShardResult
from vton.storage import Store

__all__ = ["prepare_items", "render_shards"]


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def prepare_items(
    store: Store,
    settings: RunSettings,
    products: Sequence[ProductRow],
    persons: Sequence[PersonRow],
) -> tuple[dict[str, PreparedItem], dict[str, PreparedItem]]:
    """Prepare garments and persons in parallel chunks; returns id -> result maps.

    A chunk whose task crashed after its retries marks its items failed with the error,
    so the run goes on and `rerun-failed` retries them.
    """
    progress.stage("garments", len(products))
    progress.stage("persons", len(persons))
    opts = settings.storage_options
    cloth_futs = [
        (
            chunk,
            task_prepare_cloth.submit(
                store,
                list(chunk),
                settings.masker,
                settings.max_image_pixels,
                opts,
                settings.classifier,
            ),
        )
        for chunk in _chunks(products, settings.prep_chunk_size)
    ]
    person_futs = [
        (
            chunk,
            task_prepare_person.submit(
                store,
                list(chunk),
                settings.max_person_side,
                settings.max_image_pixels,
                opts,
                settings.human_parser,
            ),
        )
        for chunk in _chunks(persons, settings.prep_chunk_size)
    ]
    wait([f for _, f in cloth_futs + person_futs])
    cloth = _collect(cloth_futs, "cloth", lambda p: p.product_id)
    people = _collect(person_futs, "person", lambda p: p.person_id)
    return cloth, people


def _collect(futs: list[tuple[Sequence, PrefectFuture]], kind: str, id_of) -> dict:
    out: dict[str, PreparedItem] = {}
    for chunk, fut in futs:
        try:
            for item in fut.result():
                out[item.item_id] = item
        except Exception as exc:
            for row in chunk:
                out[id_of(row)] = PreparedItem(
                    kind, id_of(row), "failed", error=f"prep task crashed: {one_line(exc)}"
                )
    return out


def render_shards(
    store: Store, ctx: RunContext, shards: Sequence[int], settings: RunSettings
) -> tuple[dict[int, str], dict[int, float]]:
    """Render shards in parallel; returns (crashed shard -> error, shard -> seconds).

    On Dask with `gpu_resource`, each render task asks for one `GPU` worker resource, so a
    worker renders as many shards at once as it has GPUs; prep tasks ask for nothing and
    spread over every worker.
    """
    annotate = (
        dask.annotate(resources={"GPU": 1})
        if settings.task_runner == "dask" and settings.gpu_resource
        else contextlib.nullcontext()
    )
    with annotate:
        futs = {s: task_render_shard.submit(store, ctx, s, settings.gpu_slots) for s in shards}
    wait(list(futs.values()))
    errors: dict[int, str] = {}
    elapsed: dict[int, float] = {}
    for shard, fut in futs.items():
        try:
            result: ShardResult = fut.result()
            elapsed[shard] = result.elapsed_s
        except Exception as exc:
            errors[shard] = one_line(exc)
    return errors, elapsed

"""The render task: one per shard (the unit of retry and of GPU scheduling)."""

from __future__ import annotations

import contextlib
import functools
import threading

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks import progress
from vton.render.base import Renderer
from vton.render.registry import RendererOptions, make_renderer
from vton.render.shard import RunContext, render_shard
from vton.schemas import ShardResult
from vton.storage import Store

__all__ = ["gpu_slot", "task_render_shard"]


@functools.lru_cache(maxsize=4)
def _renderer(name: str, options: RendererOptions) -> Renderer:
    """One renderer per process and configuration: networks load once, not per shard."""
    return make_renderer(name, options)


_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}


def gpu_slot(uses_gpu: bool, slots: int = 0) -> contextlib.AbstractContextManager:
    """Hold one of this process's GPU slots while rendering (a no-op for CPU renderers).

    Threads of one host share its GPUs: with `slots` (0 = one per visible GPU) at most that
    many shards render at once, the rest wait. Across hosts, Dask's `GPU` worker resource
    does the same job.
    """
    if not uses_gpu:
        return contextlib.nullcontext()
    if slots <= 0:
        import torch

        slots = max(1, torch.cuda.device_count())
    with _slots_lock:
        sem = _slots.setdefault(slots, threading.BoundedSemaphore(slots))
    return sem


def render_shard_in_gpu_slot(
    store: Store, ctx: RunContext, shard: int, gpu_slots: int = 0
) -> ShardResult:
    """Render a shard. Always resuming: pairs that this run already recorded as done for
    the shard (an earlier try, or `rerun-failed`) are kept, failed ones rendered again."""
    renderer = _renderer(ctx.renderer, ctx.renderer_options)
    with gpu_slot(renderer.uses_gpu, gpu_slots):
        result = render_shard(
            store, ctx, shard, renderer, progress=progress.shard_progress, resume=True
        )
    get_run_logger().info("shard %05d: %s in %.1f s", shard, result.counts, result.elapsed_s)
    return result


# The wrapped function keeps its own name so that Dask can pickle it by reference.
task_render_shard = task(
    render_shard_in_gpu_slot, name="render-shard", retries=2, retry_delay_seconds=10,
    cache_policy=NO_CACHE, task_run_name="render-shard-{shard:05d}",
)  # fmt: skip

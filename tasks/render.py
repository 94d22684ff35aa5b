"""The render task: one per shard (the unit of retry and of GPU scheduling)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from tasks import progress
from vton.render.registry import make_renderer
from vton.render.shard import RunContext, render_shard
from vton.schemas import ShardResult
from vton.storage import Store

__all__ = ["task_render_shard"]


@task(
    name="render-shard",
    retries=2,
    retry_delay_seconds=10,
    cache_policy=NO_CACHE,
    task_run_name="render-shard-{shard:05d}",
)
def task_render_shard(store: Store, ctx: RunContext, shard: int) -> ShardResult:
    """Render a shard. Always resuming: pairs that this run already recorded as done for
    the shard (an earlier try, or `rerun-failed`) are kept, failed ones rendered again."""
    result = render_shard(
        store,
        ctx,
        shard,
        make_renderer(ctx.renderer),
        progress=progress.shard_progress,
        resume=True,
    )
    get_run_logger().info("shard %05d: %s in %.1f s", shard, result.counts, result.elapsed_s)
    return result

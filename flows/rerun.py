"""Re-run the failed and missing shards of an earlier run, with that run's settings.

Only shards whose index file is missing, short, or has failed rows are rendered again,
and within them only the pairs not already done; garments and persons whose preparation
failed are prepared again first (their failure may have been transient). Only those
shards' index files are replaced.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from flows.nightly import ShardsCrashed, renderer_options
from flows.runners import make_task_runner
from flows.steps import prepare_items, render_shards
from tasks.runs import (
    task_close_run,
    task_items_to_prepare_again,
    task_replan_pairs,
    task_shards_to_rerun,
)
from vton.config import RunSettings
from vton.plan import PlanContext
from vton.render.registry import make_renderer
from vton.render.shard import RunContext
from vton.runs import read_manifest
from vton.storage import Store

__all__ = ["rerun_failed"]


@flow(name="vton-rerun-failed", log_prints=True)
def rerun_failed(run_id: str, store: str, storage_options: dict | None = None) -> dict:
    """Re-render the failed and missing shards of run `run_id`; returns its new manifest.

    The run's own settings (from its manifest) are used, with this call's storage options
    (credentials are never saved in a manifest).
    """
    st = Store(store, storage_options)
    st.check()  # bad credentials or endpoint: one configuration error, before any work
    manifest = read_manifest(st, run_id)
    settings = RunSettings(
        **{**manifest["settings"], "store": store, "storage_options": storage_options or {}}
    )
    body = rerun_run.with_options(task_runner=make_task_runner(settings))
    return body(run_id, settings, manifest)


@flow(name="vton-rerun-failed-run", log_prints=True)
def rerun_run(run_id: str, settings: RunSettings, manifest: dict) -> dict:
    """The re-run's body, on whatever task runner `rerun_failed` gave it."""
    logger = get_run_logger()
    st = Store(settings.store, settings.storage_options)
    shards = task_shards_to_rerun(st, run_id)
    if not shards:
        logger.info("run %s: nothing to re-run", run_id)
        return task_close_run(st, run_id)
    logger.info("run %s: re-running shards %s", run_id, shards)
    renderer = make_renderer(manifest["renderer"], renderer_options(settings))
    if renderer.model_digest != manifest["model_digest"]:
        raise RuntimeError(
            f"run {run_id} was rendered by {manifest['renderer']} {manifest['model_digest']}, "
            f"but that renderer is now {renderer.model_digest}: start a new run instead of "
            "mixing renderers within one"
        )
    sub = task_items_to_prepare_again(st, run_id, shards)
    if sub is not None:
        cloth, people = prepare_items(st, settings, sub.products, sub.persons)
        plan_ctx = PlanContext(
            manifest["renderer"],
            manifest["model_digest"],
            settings.output_format,
            settings.shard_size,
            settings.force,
        )
        task_replan_pairs(st, run_id, sub, cloth, people, plan_ctx)
    ctx = RunContext(
        run_id,
        dt.date.fromisoformat(manifest["run_date"]),
        manifest["renderer"],
        manifest["model_digest"],
        settings.output_format,
        manifest["masker"],
        renderer_options(settings),
        attempt=int(manifest.get("attempts", 1)) + 1,
    )
    errors, elapsed = render_shards(st, ctx, shards, settings)
    result = task_close_run(st, run_id, errors, elapsed, attempt=ctx.attempt)
    if errors:
        raise ShardsCrashed(f"run {run_id}: shard(s) {sorted(errors)} crashed again")
    return result

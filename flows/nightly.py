"""The nightly try-on flow: ingest -> prepare garments and persons -> plan -> render shards
-> publish index, manifest, contact sheet and report.

The flow itself does no image work: every step is a task over a `vton` function. Failed
and invalid items never stop it; a crashed shard is recorded (its pairs failed, so
`vton rerun-failed` finds them) and then fails the flow run, so the scheduler sees it.
"""

from __future__ import annotations

import datetime as dt
import time

from prefect import flow, get_run_logger

from flows.runners import make_task_runner
from flows.steps import prepare_items, render_shards
from tasks.catalog import task_load_catalog, task_write_sample_catalog
from tasks.prep import cloth_masker, garment_classifier, person_parser
from tasks.runs import task_close_run, task_open_run, task_plan_run
from vton.config import RunSettings
from vton.plan import PlanContext
from vton.render.registry import RendererOptions, make_renderer
from vton.render.shard import RunContext
from vton.runs import new_run_id
from vton.storage import Store

__all__ = ["ShardsCrashed", "nightly", "nightly_run"]


def renderer_options(settings: RunSettings) -> RendererOptions:
    return RendererOptions(
        settings.gmm_checkpoint,
        settings.tom_checkpoint,
        settings.device,
        settings.amp,
        settings.render_batch_size,
    )


class ShardsCrashed(RuntimeError):
    """Some shard tasks failed after their retries; the run is recorded and re-runnable."""


@flow(name="vton-nightly", log_prints=True)
def nightly(
    settings: RunSettings | None = None,
    run_id: str | None = None,
    run_date: dt.date | None = None,
) -> dict:
    """Render try-on images for every wanted (garment, person) pair of a catalog.

    `run_date` overrides `settings.run_date` (a backfill of one night). The task runner
    (threads or Dask) comes from the settings; the work runs as the `vton-nightly-run`
    subflow on it. Returns the run's manifest (counts, shards, report and contact sheet).
    """
    settings = settings or RunSettings()
    if run_date is not None:
        settings = settings.model_copy(update={"run_date": run_date})
    body = nightly_run.with_options(task_runner=make_task_runner(settings))
    return body(settings, run_id)


@flow(name="vton-nightly-run", log_prints=True)
def nightly_run(settings: RunSettings, run_id: str | None = None) -> dict:
    """The nightly run's body, on whatever task runner `nightly` gave it."""
    logger = get_run_logger()
    store = Store(settings.store, settings.storage_options)  # a bad URL fails here
    store.check()  # missing or refused credentials, an unreachable endpoint: before any work
    run_id = run_id or new_run_id()
    run_date = settings.run_date or dt.datetime.now(dt.timezone.utc).date()
    options = renderer_options(settings)
    renderer = make_renderer(settings.renderer, options)  # bad checkpoints fail here, early
    renderer_name = renderer.name
    # Built here too so a bad masker, classifier or parser configuration fails before any
    # work, and so the run records the exact models (ids carry their weights' digests).
    # (the same per-process instances the prep tasks use when they run in this process)
    masker_id = cloth_masker(settings.masker).id
    classifier_id = garment_classifier(settings.classifier).id
    person_parser(settings.human_parser)  # a bad --human-parser too, not once per person chunk
    products_url, persons_url = settings.catalog, settings.persons
    if products_url is None or persons_url is None:
        sample_products, sample_persons = task_write_sample_catalog(store)
        products_url = products_url or sample_products
        persons_url = persons_url or sample_persons
    catalog = task_load_catalog(products_url, persons_url, settings.pairs, settings.storage_options)
    logger.info(
        "run %s: %d products, %d persons, %d rejected rows",
        run_id,
        len(catalog.products),
        len(catalog.persons),
        len(catalog.rejected),
    )
    task_open_run(
        store,
        run_id,
        run_date,
        settings.model_dump(mode="json", exclude={"storage_options"}),
        renderer_name,
        renderer.model_digest,
        masker_id,
        catalog,
        classifier=classifier_id,
    )
    t_prep = time.perf_counter()
    cloth, persons = prepare_items(store, settings, catalog.products, catalog.persons)
    t_plan = time.perf_counter()
    plan_ctx = PlanContext(
        renderer_name,
        renderer.model_digest,
        settings.output_format,
        settings.shard_size,
        settings.force,
    )
    shards = task_plan_run(store, run_id, catalog, cloth, persons, plan_ctx)
    ctx = RunContext(
        run_id,
        run_date,
        renderer_name,
        renderer.model_digest,
        settings.output_format,
        masker_id,
        options,
    )
    t_render = time.perf_counter()
    errors, elapsed = render_shards(store, ctx, shards, settings)
    t_close = time.perf_counter()
    phases = {
        "prep_s": t_plan - t_prep,
        "plan_s": t_render - t_plan,
        "render_s": t_close - t_render,
    }
    manifest = task_close_run(store, run_id, errors, elapsed, phases)
    logger.info(
        "run %s: planned %d, %s; report %s",
        run_id,
        manifest["planned"],
        manifest["counts"],
        manifest.get("report_uri"),
    )
    if errors:
        raise ShardsCrashed(
            f"run {run_id}: {len(errors)} shard(s) crashed ({sorted(errors)}); their pairs are "
            f"recorded as failed: vton rerun-failed --run-id {run_id}"
        )
    return manifest

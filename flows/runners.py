"""Task runners from run settings: threads here, or a Dask cluster.

The choice is a run setting (not a code change) so the same deployment can run on one
host or on a cluster; `nightly` enters the chosen runner for its body.
"""

from __future__ import annotations

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from vton.config import RunSettings

__all__ = ["make_task_runner"]


def make_task_runner(settings: RunSettings) -> TaskRunner:
    if settings.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=settings.max_workers)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    cluster_kwargs = {
        "n_workers": settings.max_workers,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": None,
    }
    if settings.gpu_resource:
        cluster_kwargs["resources"] = {"GPU": 1}
    return DaskTaskRunner(cluster_kwargs=cluster_kwargs)

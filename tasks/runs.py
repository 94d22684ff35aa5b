"""Run bookkeeping tasks: open, plan, find what to re-run, close."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from vton.runs import (
    close_run,
    items_to_prepare_again,
    open_run,
    plan_run,
    replan_pairs,
    shards_to_rerun,
)

__all__ = [
    "task_open_run",
    "task_plan_run",
    "task_close_run",
    "task_shards_to_rerun",
    "task_items_to_prepare_again",
    "task_replan_pairs",
]

task_open_run = task(open_run, name="open-run", retries=2, cache_policy=NO_CACHE)
task_plan_run = task(plan_run, name="plan-run", retries=2, cache_policy=NO_CACHE)
task_close_run = task(close_run, name="close-run", retries=2, cache_policy=NO_CACHE)
task_shards_to_rerun = task(shards_to_rerun, name="shards-to-rerun", cache_policy=NO_CACHE)
task_items_to_prepare_again = task(
    items_to_prepare_again, name="items-to-prepare-again", cache_policy=NO_CACHE
)
task_replan_pairs = task(replan_pairs, name="replan-pairs", retries=2, cache_policy=NO_CACHE)

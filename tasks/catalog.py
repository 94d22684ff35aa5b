"""Ingestion tasks."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from vton.catalog import load_catalog
from vton.sample import write_sample_catalog

__all__ = ["task_load_catalog", "task_write_sample_catalog"]

# Reading tables over the network can fail transiently; a missing table fails for good.
task_load_catalog = task(
    load_catalog, name="load-catalog", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE
)
task_write_sample_catalog = task(
    write_sample_catalog, name="write-sample-catalog", retries=2, cache_policy=NO_CACHE
)

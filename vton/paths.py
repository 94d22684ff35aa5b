"""Store keys of every artifact, derived only from their inputs.

One function per artifact, so that the writer, the skip check, `rerun-failed`, the index and
the tests agree on where things are. Ids are validated as safe path components at ingest
(`vton.catalog`), so nothing here can escape its directory.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "cloth_asset_dir",
    "person_asset_dir",
    "tryon_key",
    "tryon_warp_key",
    "tryon_mask_key",
    "index_shard_key",
    "INDEX_ROOT",
    "LATEST_INDEX_KEY",
    "run_dir",
    "plan_key",
    "manifest_key",
    "report_key",
    "contact_sheet_key",
]

INDEX_ROOT = "index/tryon"
LATEST_INDEX_KEY = "index/latest/latest.parquet"


def cloth_asset_dir(product_id: str, digest: str) -> str:
    return f"assets/cloth/{product_id}/{digest}"


def person_asset_dir(person_id: str, digest: str) -> str:
    return f"assets/person/{person_id}/{digest}"


def tryon_key(renderer: str, product_id: str, person_id: str, ext: str) -> str:
    """Stable per (renderer, product, person): a storefront URL that a re-render updates."""
    return f"tryon/{renderer}/{product_id}/{person_id}.{ext}"


def tryon_warp_key(renderer: str, product_id: str, person_id: str) -> str:
    return f"tryon/{renderer}/{product_id}/{person_id}.warp.png"


def tryon_mask_key(renderer: str, product_id: str, person_id: str) -> str:
    return f"tryon/{renderer}/{product_id}/{person_id}.mask.png"


def index_shard_key(run_date: dt.date, shard: int) -> str:
    """One file per shard. The shard is a directory, not a file name, because hive
    partitioning (pyarrow, DuckDB, Spark) reads partition values from directories only."""
    return f"{INDEX_ROOT}/run_date={run_date.isoformat()}/shard={shard:05d}/data.parquet"


def run_dir(run_id: str) -> str:
    return f"runs/{run_id}"


def plan_key(run_id: str) -> str:
    return f"runs/{run_id}/plan.parquet"


def manifest_key(run_id: str) -> str:
    return f"runs/{run_id}/manifest.json"


def report_key(run_id: str) -> str:
    return f"runs/{run_id}/report.html"


def contact_sheet_key(run_id: str) -> str:
    return f"runs/{run_id}/contact-sheet.png"

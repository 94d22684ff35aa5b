"""The try-on index: one Parquet file per shard, hive-partitioned by run date and shard,
plus a consolidated `latest` view.

`index/tryon/run_date=YYYY-MM-DD/shard=NNNNN/data.parquet` holds one row per planned pair of that
shard (columns: `vton.schemas.INDEX_SCHEMA`); a re-run of the shard replaces the file whole.
`index/latest/latest.parquet` keeps, per (product, person, renderer), the newest row that
points at a published image: it answers "which try-ons exist for product X" without
scanning every night, and is what a run reads to skip pairs that are up to date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from vton.paths import INDEX_ROOT, LATEST_INDEX_KEY, index_shard_key
from vton.schemas import INDEX_FILE_SCHEMA, INDEX_PARTITIONING, INDEX_SCHEMA, STATUSES
from vton.storage import Store

__all__ = [
    "index_table",
    "write_index_shard",
    "read_index_shard",
    "read_index",
    "count_statuses",
    "read_latest",
    "update_latest",
    "latest_lookup",
]

LATEST_KEY_COLUMNS = ("product_id", "person_id", "renderer")


def index_table(rows: Sequence[dict]) -> pa.Table:
    """Rows (dicts with `INDEX_FILE_SCHEMA` columns; missing ones null) -> a typed table."""
    for row in rows:
        if row.get("status") not in STATUSES:
            raise ValueError(f"pair {row.get('pair_id')}: bad status {row.get('status')!r}")
    return pa.Table.from_pylist(list(rows), schema=INDEX_FILE_SCHEMA)


def write_index_shard(store: Store, run_date: dt.date, shard: int, rows: Sequence[dict]) -> str:
    """Write (replace) one shard's index file atomically; returns its key."""
    key = index_shard_key(run_date, shard)
    store.write_parquet(key, index_table(rows))
    return key


def read_index_shard(store: Store, run_date: dt.date, shard: int) -> pa.Table | None:
    key = index_shard_key(run_date, shard)
    if not store.exists(key):
        return None
    return store.read_parquet(key, schema=INDEX_FILE_SCHEMA)


def read_index(
    store: Store,
    *,
    run_date: dt.date | None = None,
    run_id: str | None = None,
    product_id: str | None = None,
    columns: Iterable[str] | None = None,
) -> pa.Table:
    """Rows of the partitioned index (all nights unless filtered), `INDEX_SCHEMA` order."""
    root = store.path(INDEX_ROOT)
    if not store.fs.exists(root):
        return INDEX_SCHEMA.empty_table()
    dataset = ds.dataset(
        root,
        filesystem=store.arrow_fs,
        format="parquet",
        schema=pa.unify_schemas([INDEX_FILE_SCHEMA, INDEX_PARTITIONING]),
        partitioning=ds.partitioning(INDEX_PARTITIONING, flavor="hive"),
        exclude_invalid_files=False,
    )
    flt = None
    for name, value in (("run_date", run_date), ("run_id", run_id), ("product_id", product_id)):
        if value is not None:
            cond = ds.field(name) == value
            flt = cond if flt is None else flt & cond
    table = dataset.to_table(filter=flt)
    table = table.select(list(INDEX_SCHEMA.names)).cast(INDEX_SCHEMA)
    if columns is not None:
        table = table.select(list(columns))
    return table


def count_statuses(table: pa.Table) -> dict[str, int]:
    """{status: count} for every status, zeros included."""
    counts = dict.fromkeys(STATUSES, 0)
    if table.num_rows:
        for item in pc.value_counts(table["status"]).to_pylist():
            counts[item["values"]] = item["counts"]
    return counts


def read_latest(store: Store) -> pa.Table:
    if not store.exists(LATEST_INDEX_KEY):
        return INDEX_SCHEMA.empty_table()
    return store.read_parquet(LATEST_INDEX_KEY).cast(INDEX_SCHEMA)


def update_latest(store: Store, new_rows: pa.Table) -> int:
    """Merge a run's rows into the latest view; returns its size.

    Only rows with a published image count (`ok`, and `skipped` rows that point at one);
    among those the newest `rendered_at` wins per (product, person, renderer).
    """
    has_output = pc.and_(
        pc.is_in(new_rows["status"], pa.array(["ok", "skipped"])),
        pc.is_valid(new_rows["output_uri"]),
    )
    fresh = new_rows.filter(has_output).select(INDEX_SCHEMA.names).cast(INDEX_SCHEMA)
    merged = pa.concat_tables([read_latest(store), fresh])
    if merged.num_rows == 0:
        store.write_parquet(LATEST_INDEX_KEY, merged)
        return 0
    merged = merged.sort_by([("rendered_at", "descending")])
    keys = zip(*(merged[c].to_pylist() for c in LATEST_KEY_COLUMNS), strict=True)
    seen: set[tuple] = set()
    keep = []
    for i, key in enumerate(keys):
        if key not in seen:
            seen.add(key)
            keep.append(i)
    latest = merged.take(pa.array(keep, pa.int64())).sort_by(
        [(c, "ascending") for c in LATEST_KEY_COLUMNS]
    )
    store.write_parquet(LATEST_INDEX_KEY, latest)
    return latest.num_rows


def latest_lookup(store: Store, renderer: str) -> dict[tuple[str, str], dict]:
    """(product_id, person_id) -> latest row for `renderer`, for the skip check."""
    table = read_latest(store)
    table = table.filter(pc.equal(table["renderer"], renderer)).select(
        ["product_id", "person_id", "input_digest", "output_uri", "warp_uri", "mask_uri"]
    )
    return {(r["product_id"], r["person_id"]): r for r in table.to_pylist()}

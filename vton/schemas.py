"""Data contracts, defined once: catalog rows, prep results, the plan and the index.

Readers and writers everywhere use these, so a column added here reaches the flow, the
index, the CLI and the tests together. The index is a public interface (storefronts query
it with DuckDB, pandas or Spark): change it only by adding nullable columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

__all__ = [
    "STATUSES",
    "Status",
    "ProductRow",
    "PersonRow",
    "PairRow",
    "RejectedRow",
    "Catalog",
    "PreparedItem",
    "ShardResult",
    "INDEX_SCHEMA",
    "INDEX_FILE_SCHEMA",
    "INDEX_PARTITIONING",
    "PLAN_SCHEMA",
]

Status = Literal["ok", "skipped", "failed", "invalid"]
#: Every planned pair ends in exactly one of these: planned = ok + skipped + failed + invalid.
STATUSES: tuple[str, ...] = ("ok", "skipped", "failed", "invalid")


@dataclass(frozen=True)
class ProductRow:
    """One garment of the catalog, validated.

    `image` is an absolute URL or path (relative paths in the catalog file are resolved
    against the catalog's own location). `category` and `sleeve` are the catalog's
    metadata when it has them; they win over anything predicted from the image.
    """

    product_id: str
    image: str
    category: str | None = None
    sleeve: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class PersonRow:
    """One model photo. `pose` optionally points at a precomputed OpenPose JSON file
    (COCO-18, or BODY_25 which is converted), `parse` at a LIP label PNG (palette or
    grayscale ids); given, they replace the estimates."""

    person_id: str
    image: str
    pose: str | None = None
    parse: str | None = None


@dataclass(frozen=True)
class PairRow:
    """A wanted (product, person) pair from a pairs file."""

    product_id: str
    person_id: str


@dataclass(frozen=True)
class RejectedRow:
    """A catalog, persons or pairs row that failed validation, with why.

    `item_id` is the row's id when it has a usable one; rows without one are named by
    their position (`row`, 1-based, header excluded) so the reason can still be traced.
    """

    table: Literal["products", "persons", "pairs"]
    row: int
    item_id: str | None
    reason: str


@dataclass(frozen=True)
class Catalog:
    """The validated inputs of one run, plus every rejected row."""

    products: tuple[ProductRow, ...]
    persons: tuple[PersonRow, ...]
    pairs: tuple[PairRow, ...] | None
    rejected: tuple[RejectedRow, ...] = ()


@dataclass(frozen=True)
class PreparedItem:
    """The small result of preparing one garment or person, passed between tasks.

    `key` is the store key of the content-addressed asset directory when `status` is
    ``ok``; otherwise `error` says why there is none. `category`/`sleeve` are set for
    garments. `notes` are non-fatal observations that end up in the index (for example
    ``hips-estimated`` for a photo cut off above the waist).
    """

    kind: Literal["cloth", "person"]
    item_id: str
    status: Status
    digest: str | None = None
    key: str | None = None
    error: str | None = None
    category: str | None = None
    sleeve: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ShardResult:
    """What one shard task reports back: counts per status and its index file key."""

    shard: int
    index_key: str
    counts: dict[str, int]
    elapsed_s: float


#: Columns of the try-on index, in order. `run_date` and `shard` live in the hive path
#: (`run_date=YYYY-MM-DD/shard=NNNNN/data.parquet`), not inside the files.
INDEX_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("run_date", pa.date32(), nullable=False),
        pa.field("shard", pa.int32(), nullable=False),
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("product_id", pa.string()),
        pa.field("person_id", pa.string()),
        pa.field("category", pa.string()),
        pa.field("renderer", pa.string(), nullable=False),
        pa.field("model_digest", pa.string()),
        pa.field("input_digest", pa.string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error", pa.string()),
        pa.field("output_uri", pa.string()),
        pa.field("warp_uri", pa.string()),
        pa.field("mask_uri", pa.string()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("elapsed_ms", pa.float64()),
        pa.field("rendered_at", pa.timestamp("us", tz="UTC")),
        pa.field("masker", pa.string()),
        pa.field("notes", pa.string()),
        # Which attempt of the run wrote this row: 1 = the run itself, 2.. = its re-runs.
        pa.field("attempt", pa.int32()),
    ]
)
INDEX_PARTITION_COLUMNS = ("run_date", "shard")
INDEX_FILE_SCHEMA = pa.schema([f for f in INDEX_SCHEMA if f.name not in INDEX_PARTITION_COLUMNS])
#: Explicit hive partitioning, so readers get a real date and an integer shard.
INDEX_PARTITIONING = pa.schema([pa.field("run_date", pa.date32()), pa.field("shard", pa.int32())])

#: One row per planned pair; written once per run, read back by each shard task.
PLAN_SCHEMA = pa.schema(
    [
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("shard", pa.int32(), nullable=False),
        pa.field("product_id", pa.string()),
        pa.field("person_id", pa.string()),
        pa.field("category", pa.string()),
        pa.field("cloth_key", pa.string()),
        pa.field("person_key", pa.string()),
        pa.field("input_digest", pa.string()),
        # Pre-decided outcome (invalid input, up to date, not renderable); null = render.
        pa.field("status", pa.string()),
        pa.field("error", pa.string()),
        pa.field("output_uri", pa.string()),
        pa.field("warp_uri", pa.string()),
        pa.field("mask_uri", pa.string()),
        pa.field("notes", pa.string()),
    ]
)

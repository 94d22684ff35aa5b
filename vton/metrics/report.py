"""The evaluation report: one row per method, laid out like CP-VTON+'s Table 1.

Table 1 of Minar et al. (CVPRW 2020) has, per method, the GMM's warped-mask IoU and the
TOM's SSIM and LPIPS on same-cloth pairs, and IS on different-cloth pairs (`is`, with its
std over splits in `is_std`, `vton.metrics.inception_score`). FID and KID are added: they
measure the same thing (realism of try-ons against real photos) more reliably. A metric
that could not be computed is null, and `notes` says why ("not configured: ...").

Files (in the output store): `report.json` and `report.parquet` (the row), and
`pairs.parquet` (one row per evaluated pair: names, same-cloth flag, IoU, SSIM, LPIPS).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from vton.storage import Store

__all__ = ["METHOD_COLUMNS", "PAIR_COLUMNS", "write_report"]

METHOD_COLUMNS = pa.schema(
    [
        ("method", pa.string()),
        ("pairs", pa.int64()),
        ("same_cloth_pairs", pa.int64()),
        ("iou", pa.float64()),
        ("ssim", pa.float64()),
        ("lpips", pa.float64()),
        ("is", pa.float64()),
        ("is_std", pa.float64()),
        ("fid", pa.float64()),
        ("kid", pa.float64()),
        ("kid_std", pa.float64()),
        ("notes", pa.string()),
    ]
)
PAIR_COLUMNS = pa.schema(
    [
        ("im_name", pa.string()),
        ("c_name", pa.string()),
        ("same_cloth", pa.bool_()),
        ("iou", pa.float64()),
        ("ssim", pa.float64()),
        ("lpips", pa.float64()),
    ]
)


def write_report(
    store: Store, row: Mapping[str, Any], pairs: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Write the method row and the per-pair rows; returns their URIs by name."""
    full = {name: row.get(name) for name in METHOD_COLUMNS.names}
    table = pa.Table.from_pylist([full], schema=METHOD_COLUMNS)
    per_pair = pa.Table.from_pylist(
        [{n: p.get(n) for n in PAIR_COLUMNS.names} for p in pairs], schema=PAIR_COLUMNS
    )
    return {
        "json": store.write_text(
            "report.json", json.dumps({"table1": full, "pairs": len(pairs)}, indent=1)
        ),
        "parquet": store.write_parquet("report.parquet", table),
        "pairs": store.write_parquet("pairs.parquet", per_pair),
    }

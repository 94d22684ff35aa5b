"""Planning: which pairs a run renders, their ids, digests and shards.

Pair ids and shards depend only on the inputs: pairs are sorted by (product, person) and
cut into shards of `shard_size`, so the same catalog always gives the same shards and a
shard can be re-run alone. Sorting by garment keeps each garment's pairs together: a shard
loads a garment's assets once, not once per pair, which is what keeps rendering cost per
pair flat as a catalog grows.

Outcomes known before rendering are decided here and written into the plan: invalid
inputs (with the reason), garments that are not rendered (not upper-body), and pairs
whose output is already up to date (same input digest as the latest published image).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from vton.digest import digest_parts
from vton.paths import tryon_key, tryon_mask_key, tryon_warp_key
from vton.schemas import PLAN_SCHEMA, Catalog, PreparedItem, RejectedRow
from vton.storage import Store

__all__ = [
    "RENDERABLE_CATEGORIES",
    "PlanContext",
    "pair_id",
    "plan_pairs",
    "shard_pairs",
    "replace_rows",
]

#: Upper-body garments: what CP-VTON-style try-on replaces.
RENDERABLE_CATEGORIES = ("top", "outerwear")


@dataclass(frozen=True)
class PlanContext:
    renderer: str
    model_digest: str
    output_format: str
    shard_size: int
    force: bool = False


def pair_id(product_id: str, person_id: str) -> str:
    """Stable id of a (product, person) pair."""
    return digest_parts("pair", product_id, person_id)


def _rejected_pair_id(row: RejectedRow, other: str | None) -> str:
    return digest_parts("rejected", row.table, str(row.row), row.item_id or "", other or "")


def plan_pairs(
    catalog: Catalog,
    cloth: Mapping[str, PreparedItem],
    persons: Mapping[str, PreparedItem],
    ctx: PlanContext,
    previous: Mapping[tuple[str, str], dict] | None = None,
    store: Store | None = None,
) -> pa.Table:
    """The run's plan as a `PLAN_SCHEMA` table, sorted by (product, person), with shards assigned.

    `cloth` and `persons` map ids to their prep results. `previous` maps (product, person)
    to the latest published index row for this renderer; with `store`, output URIs are
    filled in for pairs still to render.
    """
    rows: list[dict] = []
    product_ids = [p.product_id for p in catalog.products]
    person_ids = [p.person_id for p in catalog.persons]
    prev = previous or {}

    def add_rejected(rej: RejectedRow, others: list[str | None], side: str) -> None:
        for other in others or [None]:
            prod, pers = (rej.item_id, other) if side == "product" else (other, rej.item_id)
            rows.append({
                "pair_id": _rejected_pair_id(rej, other), "product_id": prod, "person_id": pers,
                "status": "invalid", "error": f"{rej.table} row {rej.row}: {rej.reason}",
            })  # fmt: skip

    known_products, known_persons = set(product_ids), set(person_ids)
    rejected_reason = {
        (r.table, r.item_id): f"{r.table} row {r.row}: {r.reason}"
        for r in catalog.rejected
        if r.item_id is not None
    }
    wanted: list[tuple[str, str]]
    if catalog.pairs is None:
        wanted = [(a, b) for a in product_ids for b in person_ids]
        for rej in catalog.rejected:
            if rej.table == "products":
                add_rejected(rej, list(person_ids), "product")
            elif rej.table == "persons":
                add_rejected(rej, list(product_ids), "person")
    else:
        wanted = [(p.product_id, p.person_id) for p in catalog.pairs]
        referenced = {("products", a) for a, _ in wanted} | {("persons", b) for _, b in wanted}
        for rej in catalog.rejected:
            # A rejected row whose id a pair names (and no valid row has) is reported on
            # that pair's row; every other rejected row gets a row of its own.
            shadowed = rej.item_id in (known_products if rej.table == "products" else known_persons)
            if rej.table == "pairs" or shadowed or (rej.table, rej.item_id) not in referenced:
                add_rejected(rej, [], "person" if rej.table == "persons" else "product")

    for prod, pers in wanted:
        row: dict = {"pair_id": pair_id(prod, pers), "product_id": prod, "person_id": pers}
        rows.append(row)
        if prod not in known_products or pers not in known_persons:
            table, item = ("products", prod) if prod not in known_products else ("persons", pers)
            reason = rejected_reason.get((table, item)) or (
                f"pairs: unknown {table[:-1]}_id {item!r} (not in the {table} table)"
            )
            row.update(status="invalid", error=reason)
            continue
        c, p = cloth[prod], persons[pers]
        row["category"] = c.category
        notes = sorted(set(c.notes) | set(p.notes))
        row["notes"] = ",".join(notes) or None
        bad = next((x for x in (c, p) if x.status != "ok"), None)
        if bad is not None:
            row.update(status=bad.status, error=bad.error)
            continue
        if c.category is not None and c.category not in RENDERABLE_CATEGORIES:
            row.update(
                status="skipped",
                error=f"category {c.category!r} is not rendered "
                f"(upper-body garments only: {', '.join(RENDERABLE_CATEGORIES)})",
            )
            continue
        digest = digest_parts(
            "tryon",
            c.digest or "",
            p.digest or "",
            ctx.renderer,
            ctx.model_digest,
            ctx.output_format,
        )
        row.update(cloth_key=c.key, person_key=p.key, input_digest=digest)
        if store is not None:
            row.update(
                output_uri=store.uri(tryon_key(ctx.renderer, prod, pers, ctx.output_format)),
                warp_uri=store.uri(tryon_warp_key(ctx.renderer, prod, pers)),
                mask_uri=store.uri(tryon_mask_key(ctx.renderer, prod, pers)),
            )
        last = prev.get((prod, pers))
        if not ctx.force and last is not None and last.get("input_digest") == digest:
            row.update(
                status="skipped",
                error="up to date (same input digest)",
                output_uri=last.get("output_uri"),
                warp_uri=last.get("warp_uri"),
                mask_uri=last.get("mask_uri"),
            )

    rows.sort(key=lambda r: (r["product_id"] or "", r["person_id"] or "", r["pair_id"]))
    for i, r in enumerate(rows):
        r["shard"] = i // ctx.shard_size
    return pa.Table.from_pylist(rows, schema=PLAN_SCHEMA)


def shard_pairs(plan: pa.Table, shards: Iterable[int]) -> list[dict]:
    """Plan rows of the given shards."""
    mask = pc.is_in(plan["shard"], pa.array(sorted(set(shards)), pa.int32()))
    return plan.filter(mask).to_pylist()


def replace_rows(plan: pa.Table, fresh: pa.Table) -> pa.Table:
    """`plan` with rows of the same `pair_id` replaced by `fresh`'s, keeping their shards.

    Used by re-runs: items that failed to prepare are prepared again and their pairs
    re-planned, while every shard keeps the pairs it had.
    """
    shard_of = dict(zip(plan["pair_id"].to_pylist(), plan["shard"].to_pylist(), strict=True))
    fresh_rows = {r["pair_id"]: r for r in fresh.to_pylist() if r["pair_id"] in shard_of}
    rows = []
    for r in plan.to_pylist():
        new = fresh_rows.get(r["pair_id"])
        rows.append({**new, "shard": r["shard"]} if new else r)
    return pa.Table.from_pylist(rows, schema=PLAN_SCHEMA)

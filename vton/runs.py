"""A run's records in the store: id, manifest, saved inputs and plan, and its closing.

Everything a later `rerun-failed` needs is saved under `runs/<run_id>/`: the settings (in
the manifest), the validated catalog (`catalog.json`) and the plan (`plan.parquet`). Closing
a run reads back the index files of its shards (the truth, whatever happened to the
process that wrote them), fills in a failed row for every pair of a shard that never wrote
its file, and publishes the manifest, contact sheet, report and the `latest` view.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from vton import __version__
from vton.index import (
    count_statuses,
    latest_lookup,
    read_index_shard,
    update_latest,
    write_index_shard,
)
from vton.paths import (
    contact_sheet_key,
    index_shard_key,
    manifest_key,
    plan_key,
    report_key,
    run_dir,
    tryon_key,
)
from vton.plan import PlanContext, plan_pairs, replace_rows, shard_pairs
from vton.report import contact_sheet, html_report
from vton.schemas import (
    INDEX_FILE_SCHEMA,
    PLAN_SCHEMA,
    Catalog,
    PairRow,
    PersonRow,
    ProductRow,
    RejectedRow,
)
from vton.storage import Store

__all__ = [
    "new_run_id",
    "write_manifest",
    "read_manifest",
    "save_catalog",
    "load_saved_catalog",
    "write_plan",
    "read_plan",
    "shards_to_rerun",
    "close_run",
    "open_run",
    "items_to_prepare_again",
    "replan_pairs",
    "plan_run",
]


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable, unique run id: UTC start time plus a random suffix."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def write_manifest(store: Store, manifest: Mapping) -> str:
    return store.write_text(
        manifest_key(manifest["run_id"]), json.dumps(manifest, indent=1, default=str)
    )


def read_manifest(store: Store, run_id: str) -> dict:
    key = manifest_key(run_id)
    if not store.exists(key):
        raise FileNotFoundError(f"no run {run_id!r} in {store.url} (missing {key})")
    return json.loads(store.read_text(key))


def save_catalog(store: Store, run_id: str, catalog: Catalog) -> str:
    return store.write_text(
        f"{run_dir(run_id)}/catalog.json", json.dumps(dataclasses.asdict(catalog))
    )


def load_saved_catalog(store: Store, run_id: str) -> Catalog:
    d = json.loads(store.read_text(f"{run_dir(run_id)}/catalog.json"))
    return Catalog(
        products=tuple(ProductRow(**p) for p in d["products"]),
        persons=tuple(PersonRow(**p) for p in d["persons"]),
        pairs=None if d["pairs"] is None else tuple(PairRow(**p) for p in d["pairs"]),
        rejected=tuple(RejectedRow(**r) for r in d["rejected"]),
    )


def write_plan(store: Store, run_id: str, plan: pa.Table) -> str:
    return store.write_parquet(plan_key(run_id), plan.cast(PLAN_SCHEMA))


def read_plan(store: Store, run_id: str) -> pa.Table:
    return store.read_parquet(plan_key(run_id), schema=PLAN_SCHEMA)


def _shard_sizes(plan: pa.Table) -> dict[int, int]:
    return {r["values"]: r["counts"] for r in pc.value_counts(plan["shard"]).to_pylist()}


def shards_to_rerun(store: Store, run_id: str) -> list[int]:
    """Shards of `run_id` whose index file is missing, belongs to a later run, is short of
    rows, or has failed rows."""
    manifest = read_manifest(store, run_id)
    run_date = dt.date.fromisoformat(manifest["run_date"])
    out = []
    for shard, size in sorted(_shard_sizes(read_plan(store, run_id)).items()):
        table = read_index_shard(store, run_date, shard)
        if table is None or table.num_rows != size:
            out.append(shard)
            continue
        if set(table["run_id"].to_pylist()) != {run_id}:
            raise RuntimeError(
                f"run {run_id}: shard {shard} of {run_date} was replaced by a later run "
                f"({table['run_id'][0]}); re-run that run instead"
            )
        if count_statuses(table)["failed"]:
            out.append(shard)
    return out


def close_run(
    store: Store,
    run_id: str,
    shard_errors: Mapping[int, str] | None = None,
    shard_elapsed: Mapping[int, float] | None = None,
    phases: Mapping[str, float] | None = None,
    attempt: int = 1,
) -> dict:
    """Reconcile and publish a run; returns the final manifest.

    `attempt` is the attempt closing it (1 for the run, n for its (n-1)th re-run): rows
    filled in for its crashed shards say which attempt lost them.

    `phases` (seconds per stage, from the flow) is recorded for operators: where a night's
    time went.

    `shard_errors` names shards whose task crashed; any shard without an index file of this
    run gets failed rows for all its pairs (with that error), so planned always equals
    ok + skipped + failed + invalid and `rerun-failed` finds them.
    """
    manifest = read_manifest(store, run_id)
    run_date = dt.date.fromisoformat(manifest["run_date"])
    plan = read_plan(store, run_id)
    sizes = _shard_sizes(plan)
    shard_errors = dict(shard_errors or {})
    tables: list[pa.Table] = []
    elapsed = {s["shard"]: s.get("elapsed_s", 0.0) for s in manifest.get("shards", [])}
    elapsed.update(shard_elapsed or {})
    shard_reports: dict[int, dict] = {}
    for shard in sorted(sizes):
        table = read_index_shard(store, run_date, shard)
        if (
            table is None
            or table.num_rows != sizes[shard]
            or (table.num_rows and table["run_id"][0].as_py() != run_id)
        ):
            reason = shard_errors.get(shard, "shard did not complete (no index file)")
            table = _failed_shard_rows(plan, shard, run_id, manifest, reason, attempt)
            write_index_shard(store, run_date, shard, table.to_pylist())
        tables.append(table.append_column("shard", pa.array([shard] * table.num_rows, pa.int32())))
        shard_reports[shard] = {
            "shard": shard,
            "counts": count_statuses(table),
            "elapsed_s": elapsed.get(shard, 0.0),
        }
    # Shards of an earlier run on the same date beyond this plan are stale: remove them.
    for key in store.list_keys(f"index/tryon/run_date={run_date.isoformat()}"):
        shard_no = int(key.rsplit("shard=", 1)[1].split("/")[0])
        if shard_no not in sizes and key == index_shard_key(run_date, shard_no):
            store.delete(key)
    rows = pa.concat_tables(tables) if tables else INDEX_FILE_SCHEMA.empty_table()
    counts = count_statuses(rows)
    now = dt.datetime.now(dt.timezone.utc)
    started = dt.datetime.fromisoformat(manifest["started_at"])
    manifest.update(
        status="complete",
        finished_at=now.isoformat(),
        elapsed_s=(now - started).total_seconds(),
        planned=rows.num_rows,
        counts=counts,
        shards=[shard_reports[s] for s in sorted(sizes)],
        vton_version=__version__,
    )
    if "attempt" in rows.column_names:
        attempts = [a for a in rows["attempt"].to_pylist() if a is not None]
        manifest["attempts"] = max([int(manifest.get("attempts", 1)), attempt, *attempts])
    if phases:
        manifest["phases"] = {**manifest.get("phases", {}), **phases}
    t_close = time.perf_counter()
    dates = pa.array([run_date] * rows.num_rows, pa.date32())
    update_latest(store, rows.append_column("run_date", dates))
    _publish_report(store, manifest, plan, rows)
    manifest.setdefault("phases", {})["close_s"] = time.perf_counter() - t_close
    write_manifest(store, manifest)
    return manifest


def _failed_shard_rows(
    plan: pa.Table, shard: int, run_id: str, manifest: Mapping, reason: str, attempt: int
) -> pa.Table:
    part = plan.filter(pc.equal(plan["shard"], shard)).to_pylist()
    rows = []
    for p in part:
        status, error = p["status"], p["error"]
        if status is None or status == "failed":
            status, error = "failed", f"shard {shard}: {reason}"
        rows.append({
            "run_id": run_id, "pair_id": p["pair_id"], "product_id": p["product_id"],
            "person_id": p["person_id"], "category": p["category"],
            "renderer": manifest["renderer"], "model_digest": manifest["model_digest"],
            "input_digest": p["input_digest"], "status": status, "error": error,
            "output_uri": p["output_uri"] if status == "skipped" else None,
            "warp_uri": p["warp_uri"] if status == "skipped" else None,
            "mask_uri": p["mask_uri"] if status == "skipped" else None,
            "masker": manifest["masker"], "notes": p["notes"],
            "attempt": attempt,
        })  # fmt: skip
    return pa.Table.from_pylist(rows, schema=INDEX_FILE_SCHEMA)


def _publish_report(store: Store, manifest: dict, plan: pa.Table, rows: pa.Table) -> None:
    run_id = manifest["run_id"]
    keys = {
        r["pair_id"]: r for r in plan.select(["pair_id", "cloth_key", "person_key"]).to_pylist()
    }
    listed = rows.select(
        ["pair_id", "product_id", "person_id", "status", "error", "shard", "output_uri"]
    ).to_pylist()
    shown = []
    for r in listed:
        if r["status"] == "ok" or (r["status"] == "skipped" and r["output_uri"]):
            k = keys[r["pair_id"]]
            shown.append(
                {
                    **r,
                    **k,
                    "output_key": tryon_key(
                        manifest["renderer"],
                        r["product_id"],
                        r["person_id"],
                        manifest["settings"]["output_format"],
                    ),
                }
            )
    sheet = contact_sheet(store, shown, manifest["settings"]["contact_sheet_rows"])
    sheet_name = None
    if sheet is not None:
        store.write_bytes(contact_sheet_key(run_id), sheet)
        sheet_name = contact_sheet_key(run_id).rsplit("/", 1)[1]
        manifest["contact_sheet_uri"] = store.uri(contact_sheet_key(run_id))
    problems = [r for r in listed if r["status"] in ("failed", "invalid")]
    store.write_text(report_key(run_id), html_report(manifest, problems, sheet_name, shown))
    manifest["report_uri"] = store.uri(report_key(run_id))


def open_run(
    store: Store,
    run_id: str,
    run_date: dt.date,
    settings: Mapping,
    renderer: str,
    model_digest: str,
    masker: str,
    catalog: Catalog,
    classifier: str | None = None,
) -> dict:
    """Record a run's start: its manifest (status ``running``) and validated catalog.

    Also sweeps temporary files a killed writer left in a local store.
    """
    store.sweep_temporaries()
    manifest = {
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "status": "running",
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "store": store.url,
        "renderer": renderer,
        "model_digest": model_digest,
        "masker": masker,
        "classifier": classifier,
        "settings": dict(settings),
        "rejected_rows": len(catalog.rejected),
        "vton_version": __version__,
    }
    save_catalog(store, run_id, catalog)
    write_manifest(store, manifest)
    return manifest


def items_to_prepare_again(store: Store, run_id: str, shards: list[int]) -> Catalog | None:
    """The garments and persons behind the to-do or failed pairs of `shards`, as a
    sub-catalog whose `pairs` are exactly those pairs; None when there are none."""
    catalog = load_saved_catalog(store, run_id)
    rows = [
        r for r in shard_pairs(read_plan(store, run_id), shards) if r["status"] in (None, "failed")
    ]
    products = {p.product_id: p for p in catalog.products}
    persons = {p.person_id: p for p in catalog.persons}
    wanted = [
        (r["product_id"], r["person_id"])
        for r in rows
        if r["product_id"] in products and r["person_id"] in persons
    ]
    if not wanted:
        return None
    return Catalog(
        products=tuple(products[a] for a in sorted({a for a, _ in wanted})),
        persons=tuple(persons[b] for b in sorted({b for _, b in wanted})),
        pairs=tuple(PairRow(a, b) for a, b in wanted),
    )


def replan_pairs(
    store: Store, run_id: str, sub: Catalog, cloth: Mapping, persons: Mapping, ctx: PlanContext
) -> None:
    """Re-plan the pairs of `sub` after their items were prepared again; shards unchanged."""
    previous = {} if ctx.force else latest_lookup(store, ctx.renderer)
    fresh = plan_pairs(sub, cloth, persons, ctx, previous, store)
    plan = read_plan(store, run_id)
    write_plan(store, run_id, replace_rows(plan, fresh))


def plan_run(
    store: Store, run_id: str, catalog: Catalog, cloth: Mapping, persons: Mapping, ctx: PlanContext
) -> list[int]:
    """Plan a run against the latest published images, save the plan, return its shards."""
    previous = {} if ctx.force else latest_lookup(store, ctx.renderer)
    plan = plan_pairs(catalog, cloth, persons, ctx, previous, store)
    write_plan(store, run_id, plan)
    return sorted(set(plan["shard"].to_pylist()))

import datetime as dt

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from vton.index import (
    count_statuses,
    index_table,
    latest_lookup,
    read_index,
    update_latest,
    write_index_shard,
)
from vton.plan import PlanContext, pair_id, plan_pairs
from vton.schemas import (
    INDEX_FILE_SCHEMA,
    INDEX_SCHEMA,
    Catalog,
    PairRow,
    PersonRow,
    PreparedItem,
    ProductRow,
    RejectedRow,
)
from vton.storage import Store

CTX = PlanContext("basic", "weight-free:x", "jpg", shard_size=4)


def _catalog(n_products=5, n_persons=3, rejected=(), pairs=None):
    return Catalog(
        products=tuple(ProductRow(f"p{i}", f"/x/p{i}.png") for i in range(n_products)),
        persons=tuple(PersonRow(f"m{i}", f"/x/m{i}.jpg") for i in range(n_persons)),
        pairs=pairs,
        rejected=tuple(rejected),
    )


def _prepped(catalog, bad=None, category="top"):
    bad = bad or {}
    cloth = {
        p.product_id: PreparedItem(
            "cloth",
            p.product_id,
            "ok",
            "d" + p.product_id,
            f"assets/cloth/{p.product_id}/d",
            category=category,
        )
        for p in catalog.products
    }
    persons = {
        p.person_id: PreparedItem(
            "person", p.person_id, "ok", "d" + p.person_id, f"assets/person/{p.person_id}/d"
        )
        for p in catalog.persons
    }
    for item_id, (status, error) in bad.items():
        table = cloth if item_id in cloth else persons
        table[item_id] = PreparedItem(table[item_id].kind, item_id, status, error=error)
    return cloth, persons


def test_shards_are_deterministic_and_grouped_by_garment():
    cat = _catalog()
    a = plan_pairs(cat, *_prepped(cat), CTX)
    b = plan_pairs(cat, *_prepped(cat), CTX)
    assert a.equals(b)
    assert a.num_rows == 15
    ids = a["pair_id"].to_pylist()
    keys = list(zip(a["product_id"].to_pylist(), a["person_id"].to_pylist(), strict=True))
    assert keys == sorted(keys) and len(set(ids)) == 15  # a garment's pairs are adjacent
    assert a["shard"].to_pylist() == [i // 4 for i in range(15)]
    assert pair_id("p1", "m1") in ids


def test_rejected_rows_and_failed_prep_are_planned_with_reasons():
    rej = [
        RejectedRow("products", 7, "../x", "unsafe id"),
        RejectedRow("persons", 2, None, "missing person_id"),
    ]
    cat = _catalog(2, 2, rejected=rej)
    cloth, persons = _prepped(cat, {"p0": ("invalid", "product p0: corrupt image")})
    plan = plan_pairs(cat, cloth, persons, CTX).to_pylist()
    # 2x2 wanted + rejected product x 2 persons + rejected person x 2 products
    assert len(plan) == 8
    by_status = {}
    for r in plan:
        by_status.setdefault(r["status"], []).append(r)
    assert len(by_status["invalid"]) == 2 + 2 + 2
    assert any(r["error"] == "products row 7: unsafe id" for r in plan)
    assert all(r["input_digest"] for r in by_status[None])


def test_pairs_file_unknown_ids_and_non_upper_body():
    pairs = (PairRow("p0", "m0"), PairRow("nope", "m0"))
    cat = _catalog(1, 1, pairs=pairs)
    cloth, persons = _prepped(cat, category="bottom")
    rows = {r["product_id"]: r for r in plan_pairs(cat, cloth, persons, CTX).to_pylist()}
    assert rows["nope"]["status"] == "invalid" and "unknown product_id" in rows["nope"]["error"]
    assert rows["p0"]["status"] == "skipped" and "upper-body" in rows["p0"]["error"]


def test_up_to_date_pairs_are_skipped_unless_forced():
    cat = _catalog(1, 1)
    first = plan_pairs(cat, *_prepped(cat), CTX).to_pylist()[0]
    prev = {
        ("p0", "m0"): {
            "input_digest": first["input_digest"],
            "output_uri": "file:///o.jpg",
            "warp_uri": None,
            "mask_uri": None,
        }
    }
    again = plan_pairs(cat, *_prepped(cat), CTX, prev).to_pylist()[0]
    assert again["status"] == "skipped" and again["output_uri"] == "file:///o.jpg"
    forced = PlanContext("basic", "weight-free:x", "jpg", 4, force=True)
    assert plan_pairs(cat, *_prepped(cat), forced, prev).to_pylist()[0]["status"] is None
    other_model = PlanContext("basic", "weight-free:y", "jpg", 4)
    assert plan_pairs(cat, *_prepped(cat), other_model, prev).to_pylist()[0]["status"] is None


def _row(i, status="ok", **kw):
    return {
        "run_id": "r1",
        "pair_id": f"x{i}",
        "product_id": f"p{i % 2}",
        "person_id": f"m{i}",
        "renderer": "basic",
        "status": status,
        "input_digest": f"d{i}",
        "output_uri": f"file:///o{i}.jpg" if status == "ok" else None,
        "rendered_at": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        **kw,
    }


def test_index_round_trip_with_hive_partitioning(tmp_path):
    store = Store(str(tmp_path))
    day = dt.date(2026, 11, 24)
    write_index_shard(store, day, 0, [_row(0), _row(1, "failed", error="boom")])
    write_index_shard(store, day, 1, [_row(2, "invalid", error="bad")])
    table = read_index(store, run_date=day)
    assert table.schema == INDEX_SCHEMA
    assert count_statuses(table) == {"ok": 1, "skipped": 0, "failed": 1, "invalid": 1}
    assert sorted(table["shard"].to_pylist()) == [0, 0, 1]
    # Plain pyarrow with hive partitioning reads it too (what DuckDB/Spark users do).
    plain = ds.dataset(str(tmp_path / "index/tryon"), partitioning="hive").to_table()
    assert plain.num_rows == 3 and {"run_date", "shard"} <= set(plain.column_names)
    assert read_index(store, product_id="p0").num_rows == 2


def test_index_rejects_unknown_status_and_keeps_schema():
    with pytest.raises(ValueError, match="bad status 'done'"):
        index_table([_row(0, status="done")])
    assert index_table([_row(0)]).schema == INDEX_FILE_SCHEMA


def test_latest_keeps_newest_published_row_per_pair(tmp_path):
    store = Store(str(tmp_path))
    day = dt.date(2026, 1, 1)
    old = index_table([_row(0)]).to_pylist()[0]
    newer = {
        **old,
        "run_id": "r2",
        "input_digest": "new",
        "rendered_at": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc),
    }
    failed = {**old, "run_id": "r3", "status": "failed", "output_uri": None, "rendered_at": None}
    for rows in ([old], [newer], [failed]):
        t = index_table(rows)
        t = t.append_column("run_date", pa.array([day], pa.date32()))
        t = t.append_column("shard", pa.array([0], pa.int32()))
        update_latest(store, t)
    look = latest_lookup(store, "basic")
    assert look[("p0", "m0")]["input_digest"] == "new"

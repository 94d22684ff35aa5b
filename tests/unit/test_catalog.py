import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import write_csv
from vton.catalog import check_safe_id, load_catalog, parse_products, read_table, resolve_url


def _reasons(bad):
    return {(r.row, r.item_id): r.reason for r in bad}


def test_bad_product_rows_are_rejected_with_reasons():
    rows = [
        {"product_id": "a", "image": "a.png"},
        {"product_id": None, "image": "x.png"},
        {"product_id": "../x", "image": "x.png"},
        {"product_id": "b", "image": None},
        {"product_id": "a", "image": "other.png"},
        {"product_id": "c", "image": "c.png", "category": "socks"},
        {"product_id": ".hidden", "image": "h.png"},
    ]
    good, bad = parse_products(rows, "/cat/products.csv")
    assert [p.product_id for p in good] == ["a"]
    reasons = _reasons(bad)
    assert reasons[(2, None)] == "missing product_id"
    assert "not a safe path component" in reasons[(3, "../x")]
    assert reasons[(4, "b")] == "missing image"
    assert "duplicate product_id 'a' (first at row 1" in reasons[(5, "a")]
    assert "'socks' is not one of top" in reasons[(6, "c")]
    assert "not a safe path component" in reasons[(7, ".hidden")]


@pytest.mark.parametrize("value", ["", "..", "a/b", "a\\b", "x" * 129, " lead", "a..b"])
def test_unsafe_ids(value):
    assert check_safe_id(value) is not None


@pytest.mark.parametrize("value", ["a", "SKU-001", "00123", "tee_1.v2"])
def test_safe_ids(value):
    assert check_safe_id(value) is None


def test_category_synonyms_and_relative_paths():
    good, bad = parse_products(
        [{"sku": "t1", "image_url": "img/t1.png", "category": "T-Shirt", "sleeve": "short"}],
        "/data/cat/products.csv",
    )
    assert bad == []
    assert good[0].category == "top" and good[0].sleeve == "short"
    assert good[0].image == "/data/cat/img/t1.png"
    assert resolve_url("img/a.png", "s3://b/cat/p.csv") == "s3://b/cat/img/a.png"
    assert resolve_url("s3://other/a.png", "/x/p.csv") == "s3://other/a.png"


def test_tables_read_ids_as_text_in_every_format(tmp_path):
    rows = [{"product_id": "00123", "image": "a.png"}]
    write_csv(tmp_path / "p.csv", rows)
    (tmp_path / "p.jsonl").write_text(json.dumps({"product_id": "00123", "image": "a.png"}) + "\n")
    pq.write_table(pa.table({"product_id": ["00123"], "image": ["a.png"]}), tmp_path / "p.parquet")
    for name in ("p.csv", "p.jsonl", "p.parquet"):
        assert read_table(str(tmp_path / name))[0]["product_id"] == "00123"


def test_bad_jsonl_line_is_a_rejected_row_not_a_crash(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"product_id": "a", "image": "a.png"}\n{oops\n')
    write_csv(tmp_path / "q.csv", [{"person_id": "p", "image": "p.jpg"}])
    cat = load_catalog(str(tmp_path / "p.jsonl"), str(tmp_path / "q.csv"))
    assert [p.product_id for p in cat.products] == ["a"]
    assert "line 2 is not valid JSON" in cat.rejected[0].reason


def test_missing_table_fails_the_run(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_catalog(str(tmp_path / "nope.csv"), str(tmp_path / "nope.csv"))


def test_catalog_csv_round_trips_through_read_table(tmp_path):
    from vton.catalog import catalog_csv

    rows = [{"product_id": "a", "image": "a.jpg"}, {"product_id": "b, c", "category": "tops"}]
    path = tmp_path / "products.csv"
    path.write_text(catalog_csv(rows))
    back = read_table(str(path))
    assert [r["product_id"] for r in back] == ["a", "b, c"]
    assert back[0]["category"] is None and back[1]["image"] is None
    assert back[1]["category"] == "tops"

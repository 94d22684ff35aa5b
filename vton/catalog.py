"""Catalog ingestion: products, persons and pairs tables into validated, typed rows.

A catalog is someone else's export, so every row is checked and a bad one is set aside with
its reason (`RejectedRow`) instead of stopping the run: a missing id or image, a duplicate
id, an id that is not a safe path component (ids become directory names in the store), an
unknown category. Relative image paths are resolved against the table's own location, so a
catalog folder can be moved or synced to S3 as a whole.
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

import fsspec
import pyarrow.parquet as pq

from vton.errors import InvalidInputError
from vton.schemas import Catalog, PairRow, PersonRow, ProductRow, RejectedRow

__all__ = [
    "CATEGORIES",
    "SLEEVES",
    "SAFE_ID",
    "check_safe_id",
    "read_table",
    "read_input_bytes",
    "resolve_url",
    "parse_products",
    "parse_persons",
    "parse_pairs",
    "load_catalog",
]

CATEGORIES = ("top", "bottom", "dress", "outerwear", "other")
SLEEVES = ("sleeveless", "short", "long")
#: Catalog vocabularies map onto ours; anything else is refused with the allowed list.
CATEGORY_SYNONYMS = {
    "tops": "top",
    "t-shirt": "top",
    "tshirt": "top",
    "tee": "top",
    "shirt": "top",
    "blouse": "top",
    "tank": "top",
    "longsleeve": "top",
    "bottoms": "bottom",
    "pants": "bottom",
    "trousers": "bottom",
    "shorts": "bottom",
    "skirt": "bottom",
    "jeans": "bottom",
    "dresses": "dress",
    "outwear": "outerwear",
    "jacket": "outerwear",
    "coat": "outerwear",
}
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
ID_ALIASES = {"products": ("product_id", "id", "sku"), "persons": ("person_id", "id")}
IMAGE_ALIASES = ("image", "image_url", "image_path", "image_uri", "url", "path")


def check_safe_id(value: str) -> str | None:
    """The reason `value` cannot be an id (it becomes a directory name), or None."""
    if value == "":
        return "empty id"
    if not SAFE_ID.match(value) or ".." in value:
        return (
            f"id {value!r} is not a safe path component (1-128 letters, digits, '.', '_', "
            "'-', starting with a letter or digit, no '..')"
        )
    return None


def resolve_url(ref: str, base_url: str) -> str:
    """Resolve an image reference against the directory of the table that names it."""
    if "://" in ref or os.path.isabs(ref):
        return ref
    if "://" in base_url:
        proto, rest = base_url.split("://", 1)
        return f"{proto}://{posixpath.normpath(posixpath.join(posixpath.dirname(rest), ref))}"
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(base_url)), ref))


def _format_of(url: str) -> str:
    name = url.lower().split("?", 1)[0]
    for suffix, fmt in (
        (".parquet", "parquet"),
        (".pq", "parquet"),
        (".csv", "csv"),
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "jsonl"),
    ):
        if name.endswith(suffix):
            return fmt
    raise ValueError(f"{url}: unknown table format; use .csv, .parquet or .jsonl")


def _cell(value: Any) -> str | None:
    """A cell as a stripped string; empty and null cells are None."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas-made files
        return None
    text = str(value).strip()
    return text or None


def catalog_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """CSV text of catalog rows (a header of every column any row has, in first-seen order;
    a row without a column leaves it empty), as `read_table` reads it back."""
    rows = list(rows)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def read_table(url: str, storage_options: Mapping[str, Any] | None = None) -> list[dict]:
    """Rows of a CSV, Parquet or JSON Lines table, every value a string or None.

    Everything is read as text: ids such as ``00123`` must not become integers.
    """
    fmt = _format_of(url)
    with fsspec.open(url, "rb", **dict(storage_options or {})) as fh:
        data = fh.read()
    if fmt == "parquet":
        raw_rows = pq.read_table(io.BytesIO(data)).to_pylist()
    elif fmt == "csv":
        raw_rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    else:
        raw_rows = []
        for n, line in enumerate(data.decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                obj = {"__error__": f"line {n} is not valid JSON: {exc.msg}"}
            if not isinstance(obj, dict):
                obj = {"__error__": f"line {n} is not a JSON object"}
            raw_rows.append(obj)
    return [
        {str(k).strip().lower(): _cell(v) for k, v in row.items() if k is not None}
        for row in raw_rows
    ]


def read_input_bytes(url: str, storage_options: Mapping[str, Any] | None = None) -> bytes:
    """Read an input file (image, pose JSON) by path or fsspec URL."""
    with fsspec.open(url, "rb", **dict(storage_options or {})) as fh:
        return fh.read()


def _first(row: Mapping[str, str | None], names: Iterable[str]) -> str | None:
    for name in names:
        if row.get(name):
            return row[name]
    return None


def _parse_items(rows: list[dict], table: str, base_url: str):
    """Shared validation of id + image; yields (row_no, id, image_url, row) or a rejection."""
    seen: dict[str, int] = {}
    id_cols = ID_ALIASES[table]
    for n, row in enumerate(rows, 1):
        raw_id = _first(row, id_cols)
        if row.get("__error__"):
            yield RejectedRow(table, n, raw_id, row["__error__"])
            continue
        if raw_id is None:
            yield RejectedRow(table, n, None, f"missing {id_cols[0]}")
            continue
        bad = check_safe_id(raw_id)
        if bad:
            yield RejectedRow(table, n, raw_id, bad)
            continue
        if raw_id in seen:
            yield RejectedRow(
                table,
                n,
                raw_id,
                f"duplicate {id_cols[0]} {raw_id!r} (first at row {seen[raw_id]}, which is kept)",
            )
            continue
        seen[raw_id] = n
        image = _first(row, IMAGE_ALIASES)
        if image is None:
            yield RejectedRow(table, n, raw_id, "missing image")
            continue
        yield (n, raw_id, resolve_url(image, base_url), row)


def _normalise_vocab(
    value: str | None, allowed: tuple[str, ...], synonyms: Mapping[str, str], what: str
) -> str | None:
    if value is None:
        return None
    key = value.strip().lower()
    key = synonyms.get(key, key)
    if key not in allowed:
        raise InvalidInputError(what, f"{value!r} is not one of {', '.join(allowed)}")
    return key


def parse_products(rows: list[dict], base_url: str) -> tuple[list[ProductRow], list[RejectedRow]]:
    """Validate product rows. Columns: product_id (or id, sku), image (or image_url...),
    optional category, sleeve, title."""
    good: list[ProductRow] = []
    bad: list[RejectedRow] = []
    for item in _parse_items(rows, "products", base_url):
        if isinstance(item, RejectedRow):
            bad.append(item)
            continue
        n, pid, image, row = item
        try:
            category = _normalise_vocab(
                row.get("category"), CATEGORIES, CATEGORY_SYNONYMS, "category"
            )
            sleeve = _normalise_vocab(row.get("sleeve"), SLEEVES, {}, "sleeve")
        except InvalidInputError as exc:
            bad.append(RejectedRow("products", n, pid, str(exc)))
            continue
        good.append(ProductRow(pid, image, category, sleeve, row.get("title")))
    return good, bad


def parse_persons(rows: list[dict], base_url: str) -> tuple[list[PersonRow], list[RejectedRow]]:
    """Validate person rows. Columns: person_id (or id), image; optional pose (OpenPose
    JSON) and parse (LIP label PNG), resolved like images."""
    good: list[PersonRow] = []
    bad: list[RejectedRow] = []
    for item in _parse_items(rows, "persons", base_url):
        if isinstance(item, RejectedRow):
            bad.append(item)
            continue
        _, pid, image, row = item
        pose = row.get("pose")
        parse = row.get("parse")
        good.append(
            PersonRow(
                pid,
                image,
                resolve_url(pose, base_url) if pose else None,
                resolve_url(parse, base_url) if parse else None,
            )
        )
    return good, bad


def parse_pairs(rows: list[dict]) -> tuple[list[PairRow], list[RejectedRow]]:
    """Validate pair rows (product_id, person_id); duplicates are dropped with a reason."""
    good: list[PairRow] = []
    bad: list[RejectedRow] = []
    seen: set[tuple[str, str]] = set()
    for n, row in enumerate(rows, 1):
        prod = _first(row, ("product_id", "product", "cloth"))
        pers = _first(row, ("person_id", "person", "image"))
        if prod is None or pers is None:
            bad.append(RejectedRow("pairs", n, prod or pers, "missing product_id or person_id"))
            continue
        if (prod, pers) in seen:
            bad.append(RejectedRow("pairs", n, f"{prod}/{pers}", "duplicate pair"))
            continue
        seen.add((prod, pers))
        good.append(PairRow(prod, pers))
    return good, bad


def load_catalog(
    products_url: str,
    persons_url: str,
    pairs_url: str | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> Catalog:
    """Read and validate the run's tables. Table-level problems (missing file, unknown
    format) raise: without a catalog there is no run. Row-level problems are recorded."""
    products, bad_products = parse_products(read_table(products_url, storage_options), products_url)
    persons, bad_persons = parse_persons(read_table(persons_url, storage_options), persons_url)
    pairs = None
    bad_pairs: list[RejectedRow] = []
    if pairs_url:
        pair_rows, bad_pairs = parse_pairs(read_table(pairs_url, storage_options))
        pairs = tuple(pair_rows)
    return Catalog(
        tuple(products), tuple(persons), pairs, tuple(bad_products + bad_persons + bad_pairs)
    )

"""The shard runner on its own: pipelined batches, bounded asset caches, failures in place."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

import vton.render.shard as shard_mod
from vton.imageio import decode_image
from vton.index import read_index_shard
from vton.paths import plan_key
from vton.render.base import Renderer, RenderOutput
from vton.render.shard import RunContext, render_shard
from vton.schemas import PLAN_SCHEMA
from vton.storage import Store

DAY = dt.date(2026, 11, 24)


class EchoRenderer(Renderer):
    """Returns the garment's colour over the person image; fails pairs named `bad`."""

    name = "echo"
    batch_size = 3

    def __init__(self) -> None:
        self.seen: list[str] = []

    @property
    def model_digest(self) -> str:
        return "echo-1"

    def render_batch(self, requests):
        out = []
        for r in requests:
            self.seen.append(r.pair_id)
            if "bad" in r.pair_id:
                out.append(ValueError(f"{r.pair_id}: cannot render"))
            else:
                img = r.person.image.copy()
                img[:] = r.cloth.image[0, 0]
                out.append(RenderOutput(img, None, None))
        return out


@pytest.fixture
def shard_store(monkeypatch):
    """A one-shard plan of 12 garments x 3 persons (pairs listed person-major, so the
    renderer sees each garment's pairs scattered), with asset loading counted."""
    store = Store("memory://shard-test")
    loads: Counter = Counter()

    def fake_cloth(_store, key):
        loads[key] += 1
        if key == "cloth/broken":
            raise ValueError("cloth/broken: meta.json missing")
        colour = int(key.rsplit("g", 1)[1]) * 10
        return type("C", (), {"image": np.full((4, 3, 3), colour, np.uint8)})()

    def fake_person(_store, key):
        loads[key] += 1
        return type("P", (), {"image": np.zeros((16, 12, 3), np.uint8)})()

    monkeypatch.setattr(shard_mod, "load_cloth_asset", fake_cloth)
    monkeypatch.setattr(shard_mod, "load_person_asset", fake_person)
    monkeypatch.setattr(shard_mod, "_MAX_CACHED_CLOTH", 2)
    rows = []
    garments = [f"cloth/g{i}" for i in range(12)] + ["cloth/broken"]
    for p in range(3):
        for g in garments:
            pair = f"{p}-{g.rsplit('/', 1)[1]}" + ("-bad" if g == "cloth/g5" and p == 1 else "")
            row = dict.fromkeys(PLAN_SCHEMA.names)
            row.update(
                pair_id=pair, shard=0, product_id=g.rsplit("/", 1)[1], person_id=f"p{p}",
                category="top", cloth_key=g, person_key=f"person/p{p}", input_digest=pair,
            )  # fmt: skip
            rows.append(row)
    store.write_parquet(plan_key("r1"), pa.Table.from_pylist(rows, schema=PLAN_SCHEMA))
    yield store, loads, rows
    store.fs.rm(store.path(""), recursive=True)


def _ctx() -> RunContext:
    return RunContext("r1", DAY, "echo", "echo-1", "png", "classical")


def test_every_pair_is_recorded_once_with_its_outcome(shard_store):
    store, _, plan = shard_store
    result = render_shard(store, _ctx(), 0, EchoRenderer())
    assert result.counts == {"ok": 35, "skipped": 0, "failed": 4, "invalid": 0}
    rows = read_index_shard(store, DAY, 0).to_pylist()
    assert [r["pair_id"] for r in rows] == [p["pair_id"] for p in plan]  # plan order kept
    by_id = {r["pair_id"]: r for r in rows}
    assert "cannot render" in by_id["1-g5-bad"]["error"]
    assert by_id["0-broken"]["status"] == "failed" and "meta.json" in by_id["0-broken"]["error"]
    ok = [r for r in rows if r["status"] == "ok"]
    for r in ok:  # each published image is that pair's own garment colour
        img = decode_image(store.read_bytes(r["output_uri"].split("shard-test/", 1)[1]), "t").rgb
        assert img.shape == (16, 12, 3) and (r["width"], r["height"]) == (12, 16)
        assert (img == int(r["product_id"][1:]) * 10).all()
    assert by_id["2-g7"]["output_uri"].endswith("tryon/echo/g7/p2.png")


def test_each_garment_loads_once_with_a_small_cache(shard_store):
    """Pairs are rendered grouped by garment, so a cache of two garments is enough to load
    each garment once, whatever the catalog size: memory stays flat."""
    store, loads, _ = shard_store
    renderer = EchoRenderer()
    render_shard(store, _ctx(), 0, renderer)
    assert all(loads[f"cloth/g{i}"] == 1 for i in range(12))
    assert all(loads[f"person/p{p}"] == 1 for p in range(3))
    garments_in_order = [pid.split("-")[1] for pid in renderer.seen]
    changes = sum(a != b for a, b in itertools.pairwise(garments_in_order))
    assert changes == 11  # one run of pairs per garment


def test_resume_re_renders_only_failed_pairs(shard_store):
    store, _, _ = shard_store
    render_shard(store, _ctx(), 0, EchoRenderer())
    again = EchoRenderer()
    result = render_shard(store, _ctx(), 0, again, resume=True)
    assert sorted(again.seen) == ["1-g5-bad"]  # the broken garment never loads
    assert result.counts["ok"] == 35

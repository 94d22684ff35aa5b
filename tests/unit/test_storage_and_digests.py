import datetime as dt
import os

import pyarrow as pa
import pytest

from vton.digest import digest_json, digest_parts
from vton.paths import index_shard_key, tryon_key
from vton.storage import Store, join_key


def test_digest_parts_are_length_prefixed_and_deterministic():
    assert digest_parts("ab", "c") != digest_parts("a", "bc")
    assert digest_parts("a", b"b") == digest_parts("a", "b")
    assert len(digest_parts("x")) == 16
    assert digest_json({"a": 1, "b": 2}) == digest_json({"b": 2, "a": 1})


def test_paths_are_deterministic():
    assert tryon_key("basic", "p1", "m1", "jpg") == "tryon/basic/p1/m1.jpg"
    assert (
        index_shard_key(dt.date(2026, 1, 2), 7)
        == "index/tryon/run_date=2026-01-02/shard=00007/data.parquet"
    )


def test_join_key_refuses_escape():
    assert join_key("a/b", "c") == "a/b/c"
    with pytest.raises(ValueError, match="escapes"):
        join_key("a", "../b")


def test_local_writes_are_atomic_and_leave_no_temporaries(tmp_path):
    store = Store(str(tmp_path / "s"))
    uri = store.write_bytes("a/b.bin", b"one")
    store.write_bytes("a/b.bin", b"two")
    assert uri == f"file://{tmp_path}/s/a/b.bin"
    assert store.read_bytes("a/b.bin") == b"two"
    assert os.listdir(tmp_path / "s" / ".tmp") == []
    assert store.list_keys("") == ["a/b.bin"]


def test_sweep_removes_temporaries_of_a_killed_writer(tmp_path):
    store = Store(str(tmp_path))
    (tmp_path / ".tmp").mkdir()
    (tmp_path / ".tmp" / "dead.part").write_bytes(b"half")
    assert store.sweep_temporaries() == 1
    assert store.list_keys("") == []


def test_memory_store_round_trip_and_parquet():
    store = Store("memory://vton-test-store")
    store.write_parquet("t.parquet", pa.table({"x": [1, 2]}))
    assert store.read_parquet("t.parquet")["x"].to_pylist() == [1, 2]
    assert store.uri("t.parquet") == "memory://vton-test-store/t.parquet"
    assert store.exists("t.parquet") and not store.exists("u.parquet")

"""Runs against an S3 server that throttles, stalls and fails: retried, nothing lost or
duplicated; what still fails is recorded and re-runnable."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from flows.nightly import ShardsCrashed, nightly
from flows.rerun import rerun_failed
from tests.flow.faulty_proxy import FaultyProxy
from tests.flow.helpers import check_run, make_bucket
from vton.config import RunSettings
from vton.index import read_index, read_latest
from vton.render.basic import BasicRenderer
from vton.render.registry import register_renderer
from vton.storage import Store

pytestmark = pytest.mark.s3


def _via(proxy: FaultyProxy, s3_options: dict) -> dict:
    # Few client-side attempts and short timeouts, so faults reach the pipeline's own retries.
    return {
        **s3_options,
        "client_kwargs": {**s3_options["client_kwargs"], "endpoint_url": proxy.url},
        "config_kwargs": {
            "retries": {"max_attempts": 2, "mode": "standard"},
            "read_timeout": 1,
            "connect_timeout": 2,
        },
        "skip_instance_cache": True,
    }


@pytest.mark.slow
def test_throttling_and_stalls_are_retried_and_nothing_is_lost(
    small_catalog, s3_options, s3_endpoint
):
    make_bucket(s3_options, "faulty")
    with FaultyProxy(s3_endpoint, error_every=6, stall_every=23, stall_s=1.5) as proxy:
        opts = _via(proxy, s3_options)
        settings = RunSettings(
            catalog=str(small_catalog["products"]), persons=str(small_catalog["persons"]),
            store="s3://faulty/tryon", storage_options=opts, shard_size=1,
        )  # fmt: skip
        m = nightly(settings)
        for _ in range(3):  # a pair may still fail after every retry: re-run until done
            if m["counts"]["failed"] == 0:
                break
            m = rerun_failed(m["run_id"], "s3://faulty/tryon", opts)
        assert proxy.injected > 5
    store = Store("s3://faulty/tryon", s3_options)
    assert check_run(store, m["run_id"], 3) == {"ok": 3, "skipped": 0, "failed": 0, "invalid": 0}
    assert read_latest(store).num_rows == 3  # nothing duplicated


def test_a_pair_whose_writes_keep_failing_is_recorded_then_rerun(
    small_catalog, s3_options, s3_endpoint
):
    make_bucket(s3_options, "broken")
    with FaultyProxy(s3_endpoint) as proxy:
        proxy.broken_paths.add("/tryon/physical/tank-text/")
        opts = _via(proxy, s3_options)
        settings = RunSettings(
            catalog=str(small_catalog["products"]), persons=str(small_catalog["persons"]),
            store="s3://broken/tryon", storage_options=opts, shard_size=1,
        )  # fmt: skip
        m = nightly(settings)
        store = Store("s3://broken/tryon", s3_options)
        failed = read_index(store, run_id=m["run_id"])
        failed = failed.filter(pc.equal(failed["status"], "failed")).to_pylist()
        assert [r["product_id"] for r in failed] == ["tank-text"]
        assert "injected" in failed[0]["error"]  # the server's own message, recorded
        proxy.broken_paths.clear()
        m2 = rerun_failed(m["run_id"], "s3://broken/tryon", opts)
    assert m2["counts"]["ok"] == 3
    check_run(store, m["run_id"], 3)


class _CrashingRenderer(BasicRenderer):
    """Crashes the whole shard task (not one pair) while `broken` is set."""

    name = "crashing"
    broken = True

    def render_batch(self, requests):
        if _CrashingRenderer.broken:
            raise RuntimeError("GPU fell off the bus")
        return super().render_batch(requests)


register_renderer("crashing", lambda options: _CrashingRenderer())


def test_a_crashed_shard_is_recorded_failed_and_rerun_completes_it(small_catalog, tmp_path):
    store = Store(str(tmp_path / "store"))
    settings = RunSettings(
        catalog=str(small_catalog["products"]),
        persons=str(small_catalog["persons"]),
        store=store.url,
        shard_size=2,
        renderer="crashing",
    )
    _CrashingRenderer.broken = True
    with pytest.raises(ShardsCrashed) as exc:
        nightly(settings)
    run_id = str(exc.value).split()[1].rstrip(":")
    rows = read_index(store, run_id=run_id).to_pylist()
    assert len(rows) == 3 and {r["status"] for r in rows} == {"failed"}
    assert all("GPU fell off the bus" in r["error"] for r in rows)
    _CrashingRenderer.broken = False
    m = rerun_failed(run_id, store.url)
    assert m["counts"]["ok"] == 3

"""The nightly flow end to end on a temporary local store."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.nightly import nightly
from flows.rerun import rerun_failed
from tests.conftest import blank_photo, write_csv
from tests.flow.helpers import DAY, check_run, settings_for
from vton.index import read_index, read_latest
from vton.runs import read_manifest
from vton.storage import Store


def test_run_publishes_images_index_and_report_then_skips_everything(small_catalog, tmp_path):
    store_url = str(tmp_path / "store")
    store = Store(store_url)
    m1 = nightly(settings_for(small_catalog, store_url, shard_size=2))
    assert m1["planned"] == 3 and m1["counts"]["ok"] == 3
    assert check_run(store, m1["run_id"], 3)["ok"] == 3
    assert len(m1["shards"]) == 2
    assert store.exists(f"runs/{m1['run_id']}/contact-sheet.png")
    report = store.read_text(f"runs/{m1['run_id']}/report.html")
    assert "contact-sheet.png" in report and m1["run_id"] in report
    assert read_latest(store).num_rows == 3
    images = store.list_keys("tryon/physical")  # the weight-free default
    assert len([k for k in images if k.endswith(".jpg")]) == 3

    m2 = nightly(settings_for(small_catalog, store_url, shard_size=2))
    assert m2["counts"] == {"ok": 0, "skipped": 3, "failed": 0, "invalid": 0}
    skipped = read_index(store, run_id=m2["run_id"]).to_pylist()
    assert all(r["error"].startswith("up to date") and r["output_uri"] for r in skipped)
    # The second run of the night replaced the first one's shard files.
    assert read_index(store, run_date=DAY, run_id=m1["run_id"]).num_rows == 0


def test_run_records_the_exact_cloth_models(small_catalog, tmp_path):
    """Manifest and index name the masker and classifier with their digests, not just the
    configured spec, so images made by different models can be told apart."""
    from vton.cloth.classify import make_classifier
    from vton.cloth.masking import make_masker

    store = Store(str(tmp_path / "store"))
    m = nightly(settings_for(small_catalog, store.url, classifier="silhouette"))
    manifest = read_manifest(store, m["run_id"])
    assert manifest["masker"] == make_masker("classical").id
    assert manifest["classifier"] == make_classifier("silhouette").id
    assert set(read_index(store, run_id=m["run_id"])["masker"].to_pylist()) == {manifest["masker"]}


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("masker", "rembg:/nowhere/u2net.onnx", "/nowhere/u2net.onnx"),
        ("masker", "magic", "magic"),
        ("classifier", "/nowhere/garments.pt", "/nowhere/garments.pt"),
    ],
)
def test_bad_cloth_model_configuration_fails_before_any_work(
    small_catalog, tmp_path, setting, value, named
):
    store = Store(str(tmp_path / "store"))
    with pytest.raises(Exception, match=named):
        nightly(settings_for(small_catalog, store.url, **{setting: value}))
    assert not store.list_keys("runs") and not store.list_keys("assets")


@pytest.fixture(scope="module")
def bad_input_run(tmp_path_factory):
    """One run over a catalog with every kind of bad input; the tests below read it."""
    from tests.conftest import PERSONS_DIR, garment_spec, write_garment

    cat = tmp_path_factory.mktemp("bad")
    write_garment(cat / "img" / "tee-navy.png", garment_spec("tee-navy"))
    (cat / "people").mkdir()
    good = (PERSONS_DIR / "astronaut.jpg").read_bytes()
    (cat / "people" / "astronaut.jpg").write_bytes(good)
    (cat / "img" / "corrupt.png").write_bytes(good[: len(good) // 3])  # truncated download
    blank_photo(cat / "people" / "nobody.jpg")
    products = [
        {"product_id": "tee-navy", "image": "img/tee-navy.png", "category": "top"},
        {"product_id": "corrupt", "image": "img/corrupt.png", "category": "top"},
        {"product_id": "gone", "image": "img/does-not-exist.png", "category": "top"},
        {"product_id": "../escape", "image": "img/tee-navy.png", "category": "top"},
    ]
    write_csv(cat / "products.csv", products)
    write_csv(
        cat / "persons.csv",
        [
            {"person_id": "astro", "image": "people/astronaut.jpg"},
            {"person_id": "nobody", "image": "people/nobody.jpg"},
        ],
    )
    store = Store(str(cat / "store"))
    m = nightly(
        settings_for({"products": cat / "products.csv", "persons": cat / "persons.csv"}, store.url)
    )
    rows = {
        (r["product_id"], r["person_id"]): r
        for r in read_index(store, run_id=m["run_id"]).to_pylist()
    }
    return store, m, rows


def test_bad_inputs_are_counted_and_the_run_goes_on(bad_input_run):
    store, m, rows = bad_input_run
    assert m["planned"] == 8
    counts = check_run(store, m["run_id"], 8)
    # 3 valid products x 2 persons + the unsafe row against both persons
    assert counts == {"ok": 1, "skipped": 0, "failed": 2, "invalid": 5}
    assert rows[("tee-navy", "astro")]["status"] == "ok"
    report = store.read_text(f"runs/{m['run_id']}/report.html")
    assert "no person detected" in report and "corrupt or truncated image" in report


def test_corrupt_image_is_invalid_with_reason(bad_input_run):
    row = bad_input_run[2][("corrupt", "astro")]
    assert row["status"] == "invalid"
    assert row["error"].startswith("product corrupt: corrupt or truncated image")


def test_unreadable_path_is_failed_with_reason(bad_input_run):
    row = bad_input_run[2][("gone", "astro")]
    assert row["status"] == "failed"
    assert "product gone: cannot read" in row["error"] and "does-not-exist.png" in row["error"]


def test_person_without_pose_is_invalid_with_reason(bad_input_run):
    row = bad_input_run[2][("tee-navy", "nobody")]
    assert row["status"] == "invalid"
    assert row["error"] == "person nobody: no person detected in the photo"


def test_unsafe_id_is_invalid_with_reason(bad_input_run):
    row = bad_input_run[2][("../escape", "astro")]
    assert row["status"] == "invalid" and "not a safe path component" in row["error"]
    assert row["output_uri"] is None


def test_failed_pairs_are_completed_by_rerun_failed(small_catalog, tmp_path):
    image = small_catalog["dir"] / "img" / "tee-navy.png"
    hidden = image.with_suffix(".bak")
    image.rename(hidden)  # the image is unreachable tonight
    store = Store(str(tmp_path / "store"))
    m = nightly(settings_for(small_catalog, store.url, shard_size=1))
    assert m["counts"]["failed"] == 1 and m["counts"]["ok"] == 2
    before = {k: store.fs.modified(store.path(k)) for k in store.list_keys("index/tryon")}

    hidden.rename(image)  # fixed by morning
    m2 = rerun_failed(m["run_id"], store.url)
    assert m2["run_id"] == m["run_id"]
    assert m2["counts"] == {"ok": 3, "skipped": 0, "failed": 0, "invalid": 0}
    check_run(store, m["run_id"], 3)
    after = {k: store.fs.modified(store.path(k)) for k in store.list_keys("index/tryon")}
    changed = [k for k in after if after[k] != before[k]]
    assert len(changed) == 1  # only the failed shard's index file was replaced
    assert rerun_failed(m["run_id"], store.url)["counts"]["ok"] == 3  # nothing left to do


def test_killed_run_leaves_no_partial_files_and_rerun_completes_it(
    small_catalog, tmp_path, prefect_api
):
    store = Store(str(tmp_path / "store"))
    settings = settings_for(
        small_catalog, store.url, shard_size=2, renderer="slow", max_workers=1, output_format="png"
    )
    run_id = "20261124T010000Z-killed"
    script = (
        "import sys, tests.flow.helpers\n"
        "from flows.nightly import nightly\nfrom vton.config import RunSettings\n"
        f"nightly(RunSettings.model_validate_json({settings.model_dump_json()!r}), "
        f"run_id={run_id!r})\n"
    )
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "VTON_TEST_RENDER_DELAY": "1.5"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=env,
        cwd=Path.cwd(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not store.list_keys("tryon/slow"):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            time.sleep(0.05)
        assert store.list_keys("tryon/slow"), "the run never started rendering"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert read_manifest(store, run_id)["status"] == "running"
    # Whatever was written is whole: every image decodes, and no index file is torn.
    for key in store.list_keys("tryon"):
        from vton.imageio import decode_image

        decode_image(store.read_bytes(key), key)
    m = rerun_failed(run_id, store.url)
    assert m["status"] == "complete"
    assert check_run(store, run_id, 3)["ok"] == 3
    assert not any(store.list_keys(".tmp"))


def test_sample_catalog_default_run(tmp_path):
    from vton.config import RunSettings

    m = nightly(RunSettings(store=str(tmp_path / "store"), shard_size=4))
    assert m["counts"]["ok"] == m["planned"] == 20  # 10 garments x 2 persons
    assert (
        json.loads(Store(str(tmp_path / "store")).read_text(f"runs/{m['run_id']}/manifest.json"))[
            "status"
        ]
        == "complete"
    )


@pytest.fixture(autouse=True)
def _no_store_leak(tmp_path):
    yield
    shutil.rmtree(tmp_path / "store", ignore_errors=True)


def test_rerun_keeps_the_runs_ok_rows_and_marks_the_attempt(small_catalog, tmp_path):
    image = small_catalog["dir"] / "img" / "tee-navy.png"
    hidden = image.with_suffix(".bak")
    image.rename(hidden)
    store = Store(str(tmp_path / "store"))
    m = nightly(settings_for(small_catalog, store.url, shard_size=10))  # one shard, mixed
    assert m["counts"]["failed"] == 1 and m["counts"]["ok"] == 2
    first = {r["pair_id"]: r for r in read_index(store).to_pylist()}
    hidden.rename(image)
    m2 = rerun_failed(m["run_id"], store.url)
    assert m2["counts"] == {"ok": 3, "skipped": 0, "failed": 0, "invalid": 0}
    assert m2["attempts"] == 2
    after = {r["pair_id"]: r for r in read_index(store).to_pylist()}
    for pid, r in first.items():
        if r["status"] == "ok":  # kept as the run rendered it, not rewritten as skipped
            assert after[pid]["status"] == "ok" and after[pid]["attempt"] == 1
            assert after[pid]["output_uri"] == r["output_uri"]
            assert after[pid]["rendered_at"] == r["rendered_at"]
        else:
            assert after[pid]["status"] == "ok" and after[pid]["attempt"] == 2

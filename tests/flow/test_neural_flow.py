"""The nightly flow with CP-VTON+ checkpoints (random weights saved to a temp dir)."""

from __future__ import annotations

import pytest
import torch

from flows.nightly import nightly
from tests.flow.helpers import check_run, settings_for
from vton.index import read_index
from vton.models import gmm_cpvton_plus, tom_cpvton_plus
from vton.storage import Store


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    torch.save(gmm_cpvton_plus().state_dict(), d / "gmm_final.pth")
    torch.save(tom_cpvton_plus().state_dict(), d / "tom_final.pth")
    return d / "gmm_final.pth", d / "tom_final.pth"


@pytest.mark.slow
def test_auto_renders_with_the_networks_when_checkpoints_are_given(
    small_catalog, tmp_path, checkpoints
):
    gmm, tom = checkpoints
    store = Store(str(tmp_path / "store"))
    m = nightly(
        settings_for(
            small_catalog, store.url, gmm_checkpoint=str(gmm), tom_checkpoint=str(tom), device="cpu"
        )
    )
    assert m["renderer"] == "cpvton_plus"
    assert m["model_digest"].startswith("neural:")
    check_run(store, m["run_id"], 3)
    rows = read_index(store, run_id=m["run_id"]).to_pylist()
    assert {r["status"] for r in rows} == {"ok"}
    assert {r["renderer"] for r in rows} == {"cpvton_plus"}
    assert {r["model_digest"] for r in rows} == {m["model_digest"]}
    assert all("/tryon/cpvton_plus/" in r["output_uri"] for r in rows)


def test_a_bad_checkpoint_fails_the_run_before_any_rendering(small_catalog, tmp_path, checkpoints):
    gmm, _ = checkpoints
    bogus = tmp_path / "tom_final.pth"
    bogus.write_text("not a checkpoint")
    store = Store(str(tmp_path / "store"))
    with pytest.raises(Exception, match=r"tom_final\.pth") as exc:
        nightly(
            settings_for(
                small_catalog, store.url, gmm_checkpoint=str(gmm), tom_checkpoint=str(bogus)
            )
        )
    assert "CheckpointError" in type(exc.value).__name__ or "checkpoint" in str(exc.value)
    assert store.list_keys("tryon") == [] and store.list_keys("runs") == []

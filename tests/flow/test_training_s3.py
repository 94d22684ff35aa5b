"""Training checkpoints on an S3-compatible store (moto): written there, resumed from there,
final weights readable from there."""

from __future__ import annotations

import pytest
import torch

from tests.flow.helpers import make_bucket
from tests.train.conftest import tiny_train_settings
from vton.models import read_state_dict
from vton.storage import Store
from vton.train.checkpointing import from_bytes
from vton.train.synthetic import write_synthetic_viton
from vton.train.trainer import train

pytestmark = [pytest.mark.s3, pytest.mark.slow]


def test_gmm_checkpoints_resume_and_final_weights_on_s3(tmp_path, s3_options):
    root = str(tmp_path / "viton")
    write_synthetic_viton(root, 3, datamode="train", seed=0)
    make_bucket(s3_options, "train")
    kw = dict(keep_steps=4, save_every=2, storage_options=s3_options)
    local = train(tiny_train_settings(root, str(tmp_path / "local"), **kw))
    out = "s3://train/gmm"
    first = train(tiny_train_settings(root, out, **kw), stop_after=3)  # "killed" after step 3
    store = Store(out, s3_options)
    assert store.exists("checkpoints/step_00000002.pt") and first.final_uri is None
    second = train(tiny_train_settings(root, out, **kw))
    assert second.start_step == 2 and second.final_uri == f"{out}/gmm_final.pth"
    # the resumed run computes the uninterrupted run's losses
    assert [r["total"] for r in second.losses] == [r["total"] for r in local.losses[2:]]
    weights = from_bytes(store.read_bytes("gmm_final.pth"), f"{out}/gmm_final.pth")
    expected = read_state_dict(tmp_path / "local" / "gmm_final.pth")
    assert weights.keys() == expected.keys()
    assert all(torch.equal(weights[k], expected[k]) for k in expected)

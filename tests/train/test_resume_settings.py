"""Resuming: settings that change the loss curve are refused before any step, bookkeeping
settings may change."""

from __future__ import annotations

import functools
import json

import pytest

from tests.train.conftest import tiny_train_settings
from vton.storage import Store
from vton.train.config import RESUME_FREE_SETTINGS, TrainSettings
from vton.train.trainer import train

# two steps, a checkpoint after each: a run stopped after one has something to resume
_settings = functools.partial(tiny_train_settings, keep_steps=2, save_every=1)


def test_resume_changes_names_each_loss_relevant_setting():
    s = _settings("d", "o")
    recorded = s.model_dump(mode="json")
    assert s.resume_changes(recorded) == []
    changed = _settings("d", "o", lr=1e-3, keep_steps=3, betas=(0.9, 0.999))
    assert changed.resume_changes(recorded) == [
        "keep_steps: 2 -> 3",
        "lr: 0.0001 -> 0.001",
        "betas: [0.5, 0.999] -> [0.9, 0.999]",
    ]
    bookkeeping = _settings(
        "d",
        "elsewhere",
        log_every=7,
        save_every=9,
        keep_checkpoints=1,
        workers=4,
        device="cuda",
        resume=False,
        init_checkpoint="x.pth",
        storage_options={"anon": True},
    )
    assert bookkeeping.resume_changes(recorded) == []
    # None means the variant's default GIC weight: the same run
    assert _settings("d", "o", gic_weight=40.0).resume_changes(recorded) == []
    assert _settings("d", "o", gic_weight=10.0).resume_changes(recorded) == [
        "gic_weight: 40.0 -> 10.0"
    ]
    # a field the checkpoint predates is not compared
    old = {k: v for k, v in recorded.items() if k != "radius"}
    assert _settings("d", "o", radius=3).resume_changes(old) == []
    assert _settings("d", "o", radius=3).resume_changes(recorded) == ["radius: 5 -> 3"]
    assert set(TrainSettings.model_fields) > RESUME_FREE_SETTINGS


@pytest.mark.slow
def test_resuming_with_a_changed_lr_fails_and_a_changed_log_every_resumes(viton_root, tmp_path):
    out = str(tmp_path / "gmm")
    first = train(_settings(viton_root, out), stop_after=1)
    assert first.steps_done == 1 and first.final_uri is None
    lines: list[str] = []
    with pytest.raises(ValueError) as exc:
        train(_settings(viton_root, out, lr=1e-3, amp="bf16"), log=lines.append)
    msg = str(exc.value)
    assert "lr: 0.0001 -> 0.001" in msg and "amp: None -> 'bf16'" in msg
    assert "another output" in msg and "resume=False" in msg and "step 1" in msg
    assert lines == []  # refused before anything was built or run
    assert json.loads(Store(out).read_text("checkpoints/latest.json"))["step"] == 1
    # bookkeeping settings may change: the run goes on where it stopped
    res = train(_settings(viton_root, out, log_every=2, keep_checkpoints=1))
    assert res.start_step == 1 and res.steps_done == 2 and res.final_uri is not None
    # and starting over is always possible
    again = train(_settings(viton_root, out, lr=1e-3, keep_steps=1, resume=False))
    assert again.start_step == 0 and again.steps_done == 1

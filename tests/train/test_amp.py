"""Mixed precision on the CPU: autocast really runs (the losses differ from float32's in
the last digits), stays close to float32, keeps the weights float32 and is recorded.

Tolerance: the first step's loss (the untrained network's forward, same weights and batch)
within 1e-2 relative of float32's. Measured on an AVX2 CPU, torch 2.13: bf16 3.4e-3 (GMM)
and 1.2e-3 (TOM), fp16 1.0e-3 (GMM). Only one or two steps each: on a CPU without native
bf16/fp16 kernels a step is 30-70x slower than in float32 (about 10 s GMM, 40 s TOM).
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from tests.train.conftest import tiny_train_settings
from vton.storage import Store
from vton.train.checkpointing import from_bytes
from vton.train.trainer import TrainResult, _cpu_has_native, train

REL_TOL = 1e-2


def _amp_run(viton_root: str, tmp_path, stage: str, amp: str, **kw) -> tuple[TrainResult, str]:
    """Train `stage` under `amp` (into ``tmp_path / amp``, returned) after one float32 step
    from the same initial weights, and check the run against it and its records."""
    fp32 = train(tiny_train_settings(viton_root, str(tmp_path / f"{stage}32"), stage=stage))
    fp32_first = fp32.losses[0]["total"]
    out = str(tmp_path / amp)
    lines: list[str] = []
    res = train(tiny_train_settings(viton_root, out, stage=stage, amp=amp, **kw), log=lines.append)
    totals = [r["total"] for r in res.losses]
    assert all(math.isfinite(t) for t in totals), totals
    # autocast really ran (it used to be ignored on the CPU) and stays near float32
    assert totals[0] != fp32_first
    assert totals[0] == pytest.approx(fp32_first, rel=REL_TOL)
    meta = json.loads(Store(out).read_text(f"{stage}_final.json"))
    assert meta["amp"] == amp and meta["settings"]["amp"] == amp
    weights = from_bytes(Store(out).read_bytes(f"{stage}_final.pth"), stage)
    floats = [v for v in weights.values() if v.is_floating_point()]
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in floats)
    assert any(f"amp {amp}" in line for line in lines)
    if not _cpu_has_native(amp):
        assert any("without native" in line for line in lines)
    return res, out


@pytest.mark.slow
def test_gmm_trains_in_bf16_on_the_cpu(viton_root, tmp_path):
    res, _ = _amp_run(viton_root, tmp_path, "gmm", "bf16", keep_steps=2)
    assert res.steps_done == 2


@pytest.mark.slow
def test_gmm_trains_in_fp16_on_the_cpu_with_a_gradient_scaler(viton_root, tmp_path):
    _, out = _amp_run(viton_root, tmp_path, "gmm", "fp16")
    state = from_bytes(Store(out).read_bytes("checkpoints/step_00000001.pt"), "checkpoint")
    assert state["scaler"] is not None and state["scaler"]["scale"] > 0


@pytest.mark.slow
def test_tom_trains_in_bf16_on_the_cpu(viton_root, tmp_path):
    _amp_run(viton_root, tmp_path, "tom", "bf16")

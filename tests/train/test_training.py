"""Training: the warp loss falls, a resumed run computes the same losses bit for bit, the
final weights are the reference's plain state dict, the TOM records its perceptual term."""

from __future__ import annotations

import copy
import functools
import json
import re

import pytest
import torch

from tests.train.conftest import tiny_train_settings
from vton.models import gmm_cpvton, load_model, read_state_dict
from vton.storage import Store
from vton.train import trainer
from vton.train.config import TrainSettings
from vton.train.dataset import VitonDataset
from vton.train.losses import gmm_losses
from vton.train.trainer import PERCEPTUAL_OFF, build_model, train
from vton.train.vgg import Vgg19Features

# four steps, a checkpoint every two: a run killed after step 3 resumes from step 2
_gmm_settings = functools.partial(tiny_train_settings, keep_steps=4, save_every=2)


def _warp_loss(model: torch.nn.Module, batch: dict) -> float:
    """L1 warp loss of `model` on `batch`, batch statistics in BatchNorm (as in training),
    on a copy so that the model's running statistics are untouched."""
    m = copy.deepcopy(model).train()
    with torch.no_grad():
        grid, _ = m(batch["agnostic"], batch["cloth_mask"])
        losses, _ = gmm_losses(batch["cloth"], grid, batch["parse_cloth"], 0.0)
    return losses.warp.item()


@pytest.mark.slow
def test_three_dozen_gmm_steps_reduce_the_warp_loss(viton_root, tmp_path):
    s = _gmm_settings(viton_root, str(tmp_path / "out"), keep_steps=36, save_every=36, log_every=4)
    ds = VitonDataset(viton_root, stage="gmm", variant="cpvton_plus")
    batch = torch.utils.data.default_collate([ds[i] for i in range(len(ds))])
    torch.manual_seed(s.seed)
    untrained = build_model("gmm", "cpvton_plus")
    before = _warp_loss(untrained, batch)
    lines: list[str] = []
    res = train(s, log=lines.append)
    assert res.steps_done == 36 and res.final_uri is not None
    trained = load_model(res.final_uri.removeprefix("file://"), kind="gmm", variant="cpvton_plus")
    after = _warp_loss(trained, batch)
    assert after < 0.8 * before, (before, after)
    # the log says how it goes
    assert any("gmm step 36/36" in line and "warp" in line for line in lines)


@pytest.mark.slow
def test_resuming_gives_the_same_losses_bit_for_bit(viton_root, tmp_path):
    full = train(_gmm_settings(viton_root, str(tmp_path / "a"), save_every=4))
    assert [r["step"] for r in full.losses] == [0, 1, 2, 3]
    # a run killed after step 3 (index 2): its last checkpoint is at 2 steps
    out = str(tmp_path / "b")
    first = train(_gmm_settings(viton_root, out), stop_after=3)
    assert first.final_uri is None and first.steps_done == 3
    assert json.loads(Store(out).read_text("checkpoints/latest.json"))["step"] == 2
    second = train(_gmm_settings(viton_root, out))
    assert second.start_step == 2 and second.steps_done == 4
    assert [r["total"] for r in first.losses] == [r["total"] for r in full.losses[:3]]
    assert [r["total"] for r in second.losses] == [r["total"] for r in full.losses[2:]]
    # ... and ends with the same weights
    a = read_state_dict(tmp_path / "a" / "gmm_final.pth")
    b = read_state_dict(tmp_path / "b" / "gmm_final.pth")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # only the newest checkpoints are kept; resuming a finished run does nothing more
    again = train(_gmm_settings(viton_root, out, keep_checkpoints=1))
    assert again.start_step == 4 and again.losses == ()


@pytest.mark.parametrize("read_at_log_steps", [False, True], ids=["cpu-reads", "gpu-reads"])
def test_a_nan_loss_stops_the_run_before_any_checkpoint_holds_its_update(
    viton_root, tmp_path, monkeypatch, read_at_log_steps
):
    """NaN at step 1 (0-based), checkpoints every 2 steps, logs every 4. Read every step
    (the CPU's way), the run stops before that step's backward, weights still finite; read
    at log and checkpoint steps only (a GPU's way, `READ_EVERY_STEP_ON`), it stops at the
    read before the first checkpoint, with the NaN update in memory but nowhere saved."""
    if read_at_log_steps:
        monkeypatch.setattr(trainer, "READ_EVERY_STEP_ON", ())
    calls, models = [], []

    def nan_at_step_1(*a, **kw):
        losses, warped = gmm_losses(*a, **kw)
        calls.append(1)
        if len(calls) == 2:
            losses = losses._replace(total=losses.total * float("nan"))
        return losses, warped

    def capture(*a, **kw):
        models.append(build_model(*a, **kw))
        return models[-1]

    monkeypatch.setattr(trainer, "gmm_losses", nan_at_step_1)
    monkeypatch.setattr(trainer, "build_model", capture)
    out = tmp_path / "out"
    s = _gmm_settings(viton_root, str(out), keep_steps=4, save_every=2, log_every=4)
    lines: list[str] = []
    with pytest.raises(FloatingPointError, match=r"gmm step 1: loss is nan .*read at step 1,"):
        train(s, log=lines.append)
    assert len(calls) == 2  # no step after the NaN one ran
    assert not any(out.rglob("*.pt")) and not any(out.rglob("*.pth"))
    assert not any("gmm step" in line and "loss" in line for line in lines)
    finite = all(p.isfinite().all() for p in models[0].parameters())
    assert finite is not read_at_log_steps


@pytest.mark.slow
def test_losses_read_at_log_steps_are_those_read_every_step(viton_root, tmp_path, monkeypatch):
    """A GPU's way of reading the losses (`READ_EVERY_STEP_ON`) gives the same records,
    history and weights, bit for bit, as the CPU's."""
    runs = []
    for read_at_log_steps in (False, True):
        if read_at_log_steps:
            monkeypatch.setattr(trainer, "READ_EVERY_STEP_ON", ())
        out = tmp_path / str(read_at_log_steps)
        s = _gmm_settings(viton_root, str(out), keep_steps=3, decay_steps=2, log_every=3)
        lines: list[str] = []
        res = train(s, log=lines.append)
        state = torch.load(out / "checkpoints" / "step_00000005.pt", weights_only=True)
        runs.append((res.losses, state["history"], read_state_dict(out / "gmm_final.pth"), lines))
    (a, ha, wa, la), (b, hb, wb, lb) = runs
    assert [r["step"] for r in a] == [0, 1, 2, 3, 4] and a == b
    assert [r["step"] for r in ha] == [2, 4] and ha == hb
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)

    def timeless(lines: list[str], run: bool) -> list[str]:
        out = str(tmp_path / str(run))
        return [re.sub(r" [\d.]+ steps/s", "", ln).replace(out, "OUT") for ln in lines]

    assert timeless(la, False) == timeless(lb, True) and len(la) == 4  # 2 step lines


def test_final_weights_are_the_reference_state_dict(viton_root, tmp_path):
    res = train(_gmm_settings(viton_root, str(tmp_path), keep_steps=1, variant="cpvton"))
    sd = torch.load(tmp_path / "gmm_final.pth", weights_only=True)
    assert type(sd) is dict and all(isinstance(v, torch.Tensor) for v in sd.values())
    assert set(sd) == set(gmm_cpvton().state_dict())  # the reference's layout (see vton.models)
    assert not any(k.startswith(("module.", "gridGen.")) for k in sd)
    model = load_model(tmp_path / "gmm_final.pth", kind="gmm")
    assert model.pretrained_cfg.variant == "cpvton"
    meta = json.loads((tmp_path / "gmm_final.json").read_text())
    assert meta["stage"] == "gmm" and meta["gic_weight"] == 0.0 and meta["steps"] == 1
    assert "storage_options" not in meta["settings"]
    assert res.final_uri.endswith("gmm_final.pth")


@pytest.mark.slow
def test_tom_without_vgg_weights_says_so(viton_root, tmp_path):
    s = tiny_train_settings(viton_root, str(tmp_path), stage="tom", variant="cpvton")
    lines: list[str] = []
    res = train(s, log=lines.append)
    assert res.perceptual == PERCEPTUAL_OFF
    assert any(PERCEPTUAL_OFF in line for line in lines)
    assert res.losses[0]["vgg"] == 0.0
    meta = json.loads((tmp_path / "tom_final.json").read_text())
    assert meta["perceptual"] == PERCEPTUAL_OFF
    state = torch.load(next((tmp_path / "checkpoints").glob("*.pt")), weights_only=True)
    assert state["metadata"]["perceptual"] == PERCEPTUAL_OFF
    assert load_model(tmp_path / "tom_final.pth", kind="tom").pretrained_cfg.variant == "cpvton"


@pytest.mark.slow
def test_tom_with_vgg_and_a_gmm_warping_on_the_fly(viton_root, tmp_path):
    torch.manual_seed(1)
    vgg = {f"features.{k}": v for k, v in Vgg19Features().features.state_dict().items()}
    torch.save(vgg, tmp_path / "vgg19.pth")
    gmm = build_model("gmm", "cpvton_plus")
    torch.save(gmm.state_dict(), tmp_path / "gmm_final.pth")
    s = tiny_train_settings(
        viton_root,
        str(tmp_path / "tom"),
        stage="tom",
        warped_from="gmm",
        gmm_checkpoint=str(tmp_path / "gmm_final.pth"),
        vgg_weights=str(tmp_path / "vgg19.pth"),
    )
    res = train(s)
    assert res.perceptual.startswith("vgg19 relu1_1..relu5_1")
    assert res.losses[0]["vgg"] > 0 and res.losses[0]["mask"] > 0
    assert load_model(res.final_uri.removeprefix("file://"), kind="tom").pretrained_cfg.variant == (
        "cpvton_plus"
    )


def test_settings_are_checked():
    with pytest.raises(ValueError, match="extra"):
        TrainSettings(stage="gmm", dataroot="d", output="o", learning_rate=1)
    with pytest.raises(ValueError, match="gmm_checkpoint"):
        TrainSettings(stage="tom", dataroot="d", output="o", warped_from="gmm")
    with pytest.raises(ValueError, match="warped_from"):
        TrainSettings(stage="tom", dataroot="d", output="o", source="store")
    s = TrainSettings(stage="gmm", dataroot="d", output="o")
    assert s.effective_gic_weight == 40.0 and s.total_steps == 200_000
    assert (
        TrainSettings(stage="gmm", variant="cpvton", dataroot="d", output="o").effective_gic_weight
        == 0
    )

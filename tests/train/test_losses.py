"""Losses, the VGG19 layout and the schedule, as properties."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vton.errors import CheckpointError
from vton.layers.tps_grid import identity_grid
from vton.layers.vgg import VggFeatures
from vton.train.losses import VGG_LAYER_WEIGHTS, VGGLoss, gic_loss, tom_losses, tom_outputs
from vton.train.schedule import ConstantThenLinear, make_scheduler
from vton.train.vgg import Vgg19Features, load_vgg19

#: torchvision vgg19().features conv indices (configuration "E").
TV_CONVS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)


def test_gic_is_zero_for_affine_grids_and_positive_otherwise():
    g = identity_grid(32, 24)[None].repeat(2, 1, 1, 1)
    assert gic_loss(g).item() == pytest.approx(0.0, abs=1e-7)
    a = torch.tensor([[1.1, 0.2], [-0.1, 0.9]])
    affine = g @ a.T + torch.tensor([0.05, -0.1])
    assert gic_loss(affine).item() == pytest.approx(0.0, abs=1e-6)
    bent = g.clone()
    bent[..., 0] = bent[..., 0] ** 3  # uneven spacing along x
    assert gic_loss(bent).item() > 1e-4


def test_gic_matches_its_definition():
    torch.manual_seed(0)
    g = torch.rand(1, 5, 4, 2)
    want = 0.0
    for i in range(1, 4):
        for j in range(1, 3):
            c = g[0, i, j]
            want += abs(abs(g[0, i, j - 1, 0] - c[0]) - abs(g[0, i, j + 1, 0] - c[0]))
            want += abs(abs(g[0, i - 1, j, 1] - c[1]) - abs(g[0, i + 1, j, 1] - c[1]))
    assert gic_loss(g).item() == pytest.approx(float(want) / (5 * 4), rel=1e-5)
    with pytest.raises(ValueError, match="grid"):
        gic_loss(torch.zeros(1, 2, 2, 2))


def _torchvision_style_vgg19(path) -> dict:
    torch.manual_seed(0)
    sd = {f"features.{k}": v for k, v in Vgg19Features().features.state_dict().items()}
    sd["classifier.0.weight"] = torch.zeros(4, 4)  # the classifier is present and ignored
    torch.save(sd, path)
    return sd


def test_vgg19_uses_torchvision_key_names_and_loads_strict(tmp_path):
    names = set(Vgg19Features().state_dict())
    assert names == {f"features.{i}.{p}" for i in TV_CONVS for p in ("weight", "bias")}
    sd = _torchvision_style_vgg19(tmp_path / "vgg19.pth")
    vgg = load_vgg19(tmp_path / "vgg19.pth")
    assert torch.equal(vgg.features[34].weight, sd["features.34.weight"])
    assert not any(p.requires_grad for p in vgg.parameters())
    del sd["features.30.bias"]
    torch.save(sd, tmp_path / "short.pth")
    with pytest.raises(CheckpointError, match=r"features\.30\.bias"):
        load_vgg19(tmp_path / "short.pth")


def test_vgg_features_returns_the_activations_after_its_taps_and_stops_there():
    torch.manual_seed(0)
    net = VggFeatures((8, "M", 16, 16, "M"), taps=(1, 4, 6))
    kinds = [type(m).__name__ for m in net.features]
    assert kinds == ["Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"]
    assert set(net.state_dict()) == {
        f"features.{i}.{p}" for i in (0, 3, 5) for p in ("weight", "bias")
    }
    x = torch.randn(2, 3, 8, 8)
    want, h = [], x
    for i, layer in enumerate(net.features):
        h = layer(h)
        if i in (1, 4, 6):
            want.append(h)
    calls: list[int] = []
    net.features[7].register_forward_hook(lambda *_: calls.append(1))
    got = net(x)
    assert len(got) == 3 and all(torch.equal(a, b) for a, b in zip(got, want, strict=True))
    assert [tuple(t.shape) for t in got] == [(2, 8, 8, 8), (2, 16, 4, 4), (2, 16, 4, 4)]
    assert calls == []  # the pool after the last tap is built (for the weights) but not run
    for bad in ((), (4, 1), (1, 1), (3,), (-1,)):
        with pytest.raises(ValueError, match="taps"):
            VggFeatures((8, "M"), bad)


def test_vgg_loss_is_the_weighted_l1_of_relu_x_1(tmp_path):
    _torchvision_style_vgg19(tmp_path / "vgg19.pth")
    vgg = load_vgg19(tmp_path / "vgg19.pth")
    loss = VGGLoss(vgg)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    y = torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(x, x).item() == 0.0
    feats_x, feats_y = vgg(x), vgg(y)
    assert [f.shape[1] for f in feats_x] == [64, 128, 256, 512, 512]
    want = sum(
        w * F.l1_loss(a, b) for w, a, b in zip(VGG_LAYER_WEIGHTS, feats_x, feats_y, strict=True)
    )
    assert loss(x, y).item() == pytest.approx(want.item(), rel=1e-5)
    assert VGG_LAYER_WEIGHTS == (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1.0)


def test_tom_composition_per_variant():
    raw = torch.zeros(1, 4, 8, 8)  # rendered 0, mask sigmoid(0) = 0.5
    warped = torch.ones(1, 3, 8, 8)
    wmask = torch.zeros(1, 1, 8, 8)
    _, m, plus = tom_outputs(raw, warped, wmask, "cpvton_plus")
    _, _, cp = tom_outputs(raw, warped, wmask, "cpvton")
    assert torch.allclose(plus, torch.full_like(plus, 0.5))
    assert torch.equal(cp, torch.zeros_like(cp))  # CP-VTON only composes inside the warp
    losses = tom_losses(plus, m, plus, m, None)
    assert losses.total.item() == 0.0 and losses.vgg.item() == 0.0


def test_schedule_is_constant_then_linear_to_zero_and_applied():
    f = ConstantThenLinear(3, 4)
    assert [round(f(s), 4) for s in range(9)] == [1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2, 0.0]
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=1e-4)
    sched = make_scheduler(opt, 3, 4)
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert (
        lrs[:4] == [1e-4] * 4
        and lrs[4] == pytest.approx(0.8e-4)
        and lrs[7] == pytest.approx(0.2e-4)
    )
    assert sched.state_dict()["lr_lambdas"] == [{"keep_steps": 3, "decay_steps": 4}]


def test_gmm_loss_is_non_finite_whenever_the_grid_is():
    """Border padding samples finite values at NaN grid positions; without GIC the loss
    must still show the NaN, so the trainer stops before a backward through it."""
    from vton.train.losses import gmm_losses

    g = torch.Generator().manual_seed(0)
    cloth, target = torch.rand(1, 3, 8, 6, generator=g), torch.rand(1, 3, 8, 6, generator=g)
    grid = torch.rand(1, 8, 6, 2, generator=g) * 2 - 1
    healthy, _ = gmm_losses(cloth, grid, target, gic_weight=0.0)
    assert torch.isfinite(healthy.total) and healthy.gic.item() == 0.0
    assert torch.equal(healthy.total, healthy.warp)  # the guard adds exactly nothing
    grid[0, 2, 3, 0] = float("nan")
    sick, warped = gmm_losses(cloth, grid, target, gic_weight=0.0)
    assert torch.isfinite(warped).all()  # what the guard is for
    assert not torch.isfinite(sick.total)

"""Metrics as properties, and `evaluate` on known answers."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

from vton.metrics.fid import fid_from_features, kid_from_features
from vton.metrics.iou import mask_iou
from vton.metrics.lpips import LPIPS_CHANNELS, Lpips, load_lpips
from vton.metrics.ssim import ssim
from vton.storage import Store
from vton.train.config import EvalSettings
from vton.train.evaluate import evaluate


def test_ssim_is_one_for_identical_images_and_lower_otherwise():
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 24) * 2 - 1
    assert torch.equal(ssim(x, x), torch.ones(2, dtype=torch.float64))
    noisy = (x + 0.2 * torch.randn_like(x)).clamp(-1, 1)
    s = ssim(x, noisy)
    assert (s < 0.95).all() and (s > 0).all()
    assert torch.allclose(s, ssim(noisy, x))
    with pytest.raises(ValueError, match="smaller"):
        ssim(x[..., :8, :8], x[..., :8, :8])


def test_iou_values():
    a = torch.zeros(3, 1, 4, 4)
    b = torch.zeros(3, 1, 4, 4)
    a[0, :, :2] = 1  # 8 px
    b[0, :, 1:3] = 1  # 8 px, 4 shared
    a[1, :, :2] = 1
    b[1, :, 2:] = 1  # disjoint
    iou = mask_iou(a, b)
    assert iou.tolist() == [4 / 12, 0.0, 1.0]  # two empty masks agree
    assert mask_iou(a, a).tolist() == [1.0, 1.0, 1.0]


def test_fid_and_kid_on_known_distributions():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 8))
    assert fid_from_features(a, a) == pytest.approx(0.0, abs=1e-8)
    assert fid_from_features(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-6)  # mean shift only
    b = rng.normal(size=(400, 8))
    kid_same, _ = kid_from_features(a, b, subsets=20, subset_size=200)
    kid_far, _ = kid_from_features(a, b + 1.0, subsets=20, subset_size=200)
    assert abs(kid_same) < 0.05 and kid_far > 10 * abs(kid_same) + 0.1


def _lpips_files(tmp_path):
    torch.manual_seed(0)
    m = Lpips()
    backbone = {k: v for k, v in m.net.state_dict().items()}
    backbone["classifier.0.weight"] = torch.zeros(2, 2)
    torch.save(backbone, tmp_path / "vgg16.pth")
    lin = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate(LPIPS_CHANNELS)}
    torch.save(lin, tmp_path / "lpips_vgg.pth")
    return tmp_path / "vgg16.pth", tmp_path / "lpips_vgg.pth"


def test_lpips_loads_both_files_strictly_and_is_a_distance(tmp_path):
    backbone, lin = _lpips_files(tmp_path)
    lp = load_lpips(backbone, lin)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = torch.rand(2, 3, 32, 32) * 2 - 1
    assert torch.equal(lp(x, x), torch.zeros(2))
    assert (lp(x, y) > 0).all()
    assert torch.allclose(lp(x, y), lp(y, x))


class _MeanColour(nn.Module):
    """A stand-in feature extractor: per-channel means and stds (B, 6)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], 1)


def test_evaluate_identical_results_give_ssim_1_and_iou_1(viton_root, tmp_path):
    """Saved 'results' that are the ground truth itself: the warped masks are the persons'
    cloth regions and the try-ons are the photos."""
    test = Store(os.path.join(viton_root, "test"))
    masks, tryons = Store(str(tmp_path / "warp-mask")), Store(str(tmp_path / "try-on"))
    for line in Store(viton_root).read_text("test_pairs.txt").splitlines():
        im_name = line.split()[0]
        # the synthetic warp under the person's name is the worn shirt: its parse region
        masks.write_bytes(im_name, test.read_bytes(f"warp-mask/{im_name}"))
        tryons.write_bytes(im_name, test.read_bytes(f"image/{im_name}"))
    example = (torch.zeros(2, 3, 32, 32),)
    dynamic = {"x": {0: torch.export.Dim.DYNAMIC}}
    program = torch.export.export(_MeanColour(), example, dynamic_shapes=dynamic)
    torch.export.save(program, str(tmp_path / "feat.pt2"))
    out = tmp_path / "report"
    res = evaluate(
        EvalSettings(
            dataroot=viton_root,
            output=str(out),
            warp_mask_dir=str(tmp_path / "warp-mask"),
            tryon_dir=str(tmp_path / "try-on"),
            fid_extractor=str(tmp_path / "feat.pt2"),
            fid_input_size=32,
            kid_subsets=5,
            batch_size=2,
            method="identity",
        )
    )
    row = res.row
    assert row["pairs"] == 3 and row["same_cloth_pairs"] == 3
    assert row["ssim"] == 1.0 and row["iou"] == 1.0
    assert row["fid"] == pytest.approx(0.0, abs=1e-6)
    assert row["lpips"] is None and "LPIPS: not configured" in row["notes"]
    table = pq.read_table(out / "report.parquet").to_pylist()
    assert table[0]["method"] == "identity" and table[0]["ssim"] == 1.0
    assert [c for c in table[0]] == [
        "method",
        "pairs",
        "same_cloth_pairs",
        "iou",
        "ssim",
        "lpips",
        "is",
        "fid",
        "kid",
        "kid_std",
        "notes",
    ]
    assert json.loads((out / "report.json").read_text())["table1"]["iou"] == 1.0
    assert len(pq.read_table(out / "pairs.parquet")) == 3


@pytest.mark.slow
def test_evaluate_runs_checkpoints(viton_root, tmp_path):
    from vton.models import gmm_cpvton, tom_cpvton

    torch.manual_seed(0)
    torch.save(gmm_cpvton().state_dict(), tmp_path / "gmm.pth")
    torch.save(tom_cpvton().state_dict(), tmp_path / "tom.pth")
    res = evaluate(
        EvalSettings(
            dataroot=viton_root,
            variant="cpvton",
            output=str(tmp_path / "r"),
            gmm_checkpoint=str(tmp_path / "gmm.pth"),
            tom_checkpoint=str(tmp_path / "tom.pth"),
            batch_size=3,
        )
    )
    r = res.row
    assert 0 <= r["iou"] < 1 and -1 < r["ssim"] < 1
    assert r["fid"] is None and "FID/KID: not configured" in r["notes"]

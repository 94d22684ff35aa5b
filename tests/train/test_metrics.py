"""Metrics as properties, and `evaluate` on known answers."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from torch import nn

from vton.imageio import decode_image
from vton.metrics.fid import fid_from_features, kid_from_features
from vton.metrics.inception_score import inception_score
from vton.metrics.iou import mask_iou
from vton.metrics.lpips import LPIPS_CHANNELS, Lpips, load_lpips
from vton.metrics.ssim import ssim
from vton.models import gmm_cpvton_plus
from vton.storage import Store
from vton.tensors import image_to_tensor
from vton.train import dataset
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


#: torchvision vgg16().features conv indices (configuration "D").
TV16_CONVS = (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)


def test_lpips_vgg16_has_torchvision_keys_and_taps_relu_x_last():
    net = Lpips().net
    assert set(net.state_dict()) == {
        f"features.{i}.{p}" for i in TV16_CONVS for p in ("weight", "bias")
    }
    # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3: the last ReLU before each max-pool
    assert [type(net.features[i + 1]).__name__ for i in net.taps] == ["MaxPool2d"] * 5
    assert all(isinstance(net.features[i], nn.ReLU) for i in net.taps)
    feats = net(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert [tuple(f.shape[1:]) for f in feats] == [
        (c, 32 >> k, 32 >> k) for k, c in enumerate(LPIPS_CHANNELS)
    ]


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
    assert row["is"] is None and "IS: not configured (is_classifier)" in row["notes"]
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
        "is_std",
        "fid",
        "kid",
        "kid_std",
        "notes",
    ]
    assert json.loads((out / "report.json").read_text())["table1"]["iou"] == 1.0
    assert len(pq.read_table(out / "pairs.parquet")) == 3


def test_scoring_saved_results_builds_one_person_representation_a_pair(
    viton_root, tmp_path, monkeypatch
):
    """Without a GMM to run, items need not carry the GMM's representation (for CP-VTON+ a
    second one, with other head labels); with one they do, and the count shows it."""
    _save_results(viton_root, tmp_path)
    built = []
    real = dataset.person_representation

    def counting(*a, **kw):
        built.append(a[3])
        return real(*a, **kw)

    monkeypatch.setattr(dataset, "person_representation", counting)
    common = dict(dataroot=viton_root, output=str(tmp_path / "r"), batch_size=2)
    row = evaluate(
        EvalSettings(
            **common, warp_mask_dir=str(tmp_path / "warp-mask"), tryon_dir=str(tmp_path / "try-on")
        )
    ).row
    assert row["pairs"] == 3 and row["ssim"] == 1.0 and row["iou"] == 1.0
    assert len(built) == 3
    torch.manual_seed(0)
    torch.save(gmm_cpvton_plus().state_dict(), tmp_path / "gmm.pth")
    built.clear()
    row = evaluate(EvalSettings(**common, gmm_checkpoint=str(tmp_path / "gmm.pth"))).row
    assert row["pairs"] == 3 and 0 <= row["iou"] < 1
    assert len(built) == 6 and len(set(built)) == 2  # the TOM's and the GMM's


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


def test_inception_score_is_one_when_every_image_gets_the_same_classes():
    rng = np.random.default_rng(0)
    row = rng.normal(size=7)
    assert inception_score(np.tile(row, (12, 1)), splits=3) == pytest.approx((1.0, 0.0), abs=1e-12)
    confident = np.zeros((12, 7))
    confident[:, 2] = 100.0  # all images say class 2
    assert inception_score(confident, splits=1)[0] == pytest.approx(1.0, abs=1e-12)


def test_inception_score_is_n_for_n_confident_distinct_classes():
    n, c = 5, 8
    logits = np.zeros((n, c))
    logits[np.arange(n), [0, 3, 4, 6, 7]] = 100.0  # p(y|x) one-hot to 1e-43
    mean, std = inception_score(logits, splits=1)
    assert mean == pytest.approx(n, rel=1e-12) and std == 0.0
    # torch input, any float dtype; splits are consecutive rows (OpenAI's cut)
    assert inception_score(torch.from_numpy(logits).float(), 1)[0] == pytest.approx(n, rel=1e-6)
    six = np.concatenate([logits[:3], logits[:3]])  # two splits of three distinct classes
    assert inception_score(six, splits=2) == pytest.approx((3.0, 0.0), abs=1e-9)
    assert inception_score(six, splits=6) == pytest.approx((1.0, 0.0), abs=1e-12)


def test_inception_score_matches_a_hand_computed_value():
    # p(y|x) = (3/4, 1/4) and (1/4, 3/4): p(y) = (1/2, 1/2),
    # KL = 3/4 log(3/2) + 1/4 log(1/2) for both images
    logits = np.log([[0.75, 0.25], [0.25, 0.75]])
    expected = np.exp(0.75 * np.log(1.5) + 0.25 * np.log(0.5))
    assert inception_score(logits, splits=1)[0] == pytest.approx(expected, rel=1e-12)


def test_inception_score_checks_its_input():
    with pytest.raises(ValueError, match="splits"):
        inception_score(np.zeros((3, 4)), splits=4)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        inception_score(np.zeros(4), splits=1)
    with pytest.raises(ValueError, match="finite"):
        inception_score(np.array([[0.0, np.nan]]), splits=1)


class _ColourClassifier(nn.Module):
    """A stand-in classifier: 3 classes whose logits are the mean R, G, B in 0..255."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3)) / 8.0


def _save_results(viton_root: str, tmp_path) -> list[str]:
    """Saved 'results' that are the ground truth (as in the test above); the person names."""
    test = Store(os.path.join(viton_root, "test"))
    masks, tryons = Store(str(tmp_path / "warp-mask")), Store(str(tmp_path / "try-on"))
    names = [line.split()[0] for line in Store(viton_root).read_text("test_pairs.txt").splitlines()]
    for im_name in names:
        masks.write_bytes(im_name, test.read_bytes(f"warp-mask/{im_name}"))
        tryons.write_bytes(im_name, test.read_bytes(f"image/{im_name}"))
    return names


# TorchScript is what clean-fid ships; torch 2.13 deprecates it, and that is not this test's
@pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")
def test_evaluate_reports_the_inception_score_of_different_cloth_try_ons(viton_root, tmp_path):
    names = _save_results(viton_root, tmp_path)
    torch.jit.script(_ColourClassifier()).save(str(tmp_path / "cls.pt"))
    test = Store(os.path.join(viton_root, "test"))
    images = torch.cat(
        [image_to_tensor(decode_image(test.read_bytes(f"image/{n}"), n).rgb) for n in names]
    )
    x = torch.nn.functional.interpolate(
        (images + 1) * 127.5, size=(32, 32), mode="bilinear", align_corners=False
    )
    p = torch.softmax(_ColourClassifier()(x).double(), 1)
    py = p.mean(0, keepdim=True)
    expected = torch.exp((p * (p.log() - py.log())).sum(1).mean()).item()
    assert expected > 1.001  # the synthetic shirts differ in colour: a non-trivial score

    def run(**kw):
        return evaluate(
            EvalSettings(
                dataroot=viton_root,
                output=str(tmp_path / "report"),
                warp_mask_dir=str(tmp_path / "warp-mask"),
                tryon_dir=str(tmp_path / "try-on"),
                is_classifier=str(tmp_path / "cls.pt"),
                fid_input_size=32,
                batch_size=2,
                **kw,
            )
        ).row

    # every pair taken as a different-cloth pair (as VITON's test_pairs.txt are)
    row = run(same_cloth="none", is_splits=1)
    assert row["is"] == pytest.approx(expected, rel=1e-9) and row["is_std"] == 0.0
    assert "IS:" not in row["notes"]
    table = pq.read_table(tmp_path / "report" / "report.parquet").to_pylist()[0]
    assert table["is"] == pytest.approx(expected, rel=1e-9) and table["is_std"] == 0.0
    # fewer images than splits: as many splits as images, and the notes say so
    row = run(same_cloth="none")
    assert (
        row["is"] == pytest.approx(1.0)
        and "3 different-cloth try-ons, so 3 splits" in (row["notes"])
    )
    # the synthetic pairs are all same-cloth by VITON's naming: IS has nothing to measure
    row = run()
    assert row["is"] is None and "IS: no different-cloth pairs" in row["notes"]

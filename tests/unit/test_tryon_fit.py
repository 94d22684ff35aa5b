"""The reference-free try-on measures of the catalog benchmark, on hand-made label maps."""

from __future__ import annotations

import numpy as np
import pytest

from vton.metrics.tryon_fit import (
    coverage_iou,
    garment_hem_y,
    keep_region,
    masked_ssim,
    neckline_error,
    torso_region,
    upper_body_region,
)
from vton.person.labels import LIP

H, W = 200, 100


def _person() -> tuple[np.ndarray, np.ndarray]:
    """A body: face rows 10-40, top rows 50-120 (cols 30-70), pants below; keypoints with
    the neck at y=50 and hips at y=120."""
    labels = np.zeros((H, W), np.uint8)
    labels[10:40, 40:60] = LIP["face"]
    labels[50:120, 30:70] = LIP["upper-clothes"]
    labels[120:190, 35:65] = LIP["pants"]
    kp = np.zeros((18, 3), np.float32)
    kp[1] = (50, 50, 1)
    kp[2], kp[5] = (35, 52, 1), (65, 52, 1)
    kp[8], kp[11] = (42, 120, 1), (58, 120, 1)
    return labels, kp


def test_coverage_is_one_for_exact_cover_and_falls_with_overhang():
    labels, kp = _person()
    exact = labels == LIP["upper-clothes"]
    assert coverage_iou(exact, labels, kp) == pytest.approx(1.0)
    long = exact.copy()
    long[120:160, 30:70] = True  # a tee hanging to mid-thigh like a dress
    assert coverage_iou(long, labels, kp) == pytest.approx(70 / 110)


def test_coverage_leaves_the_arms_out_of_both_masks():
    labels, kp = _person()
    labels[60:110, 20:30] = LIP["upper-clothes"]  # an old long sleeve on the left arm
    kp[3], kp[4] = (25, 80, 1), (25, 108, 1)
    torso = np.zeros((H, W), bool)
    torso[50:120, 30:70] = True  # a new top that leaves the arm bare
    assert coverage_iou(torso, labels, kp, arms=True) < 0.9
    assert coverage_iou(torso, labels, kp) > 0.95
    # a new sleeve on the arm is neither credited nor penalised
    sleeved = torso.copy()
    sleeved[82:105, 22:28] = True  # along the forearm
    assert coverage_iou(sleeved, labels, kp) == pytest.approx(coverage_iou(torso, labels, kp))


def test_upper_body_is_the_torso_to_the_hips_whatever_the_old_top_covered():
    labels, kp = _person()
    labels[90:120, 30:70] = LIP["neck"]  # a crop top to row 90, bare skin to the hips
    labels[42:50, 45:55] = LIP["neck"]  # the neck above the shoulder line
    tee = np.zeros((H, W), bool)
    tee[50:120, 30:70] = True  # a tee to the hips: the right cover
    assert coverage_iou(tee, labels, kp) == pytest.approx(1.0)
    # against the old top alone its cover of the midriff would count as overhang
    assert coverage_iou(tee, labels, kp, old_top=True) == pytest.approx(40 / 70)
    region = torso_region(labels, kp)
    assert region[100, 50] and not region[45, 50]
    # a top tucked into high-waisted trousers: their waist above the hips is torso too,
    # the trousers below the hips are not
    labels[90:120, 30:70] = LIP["pants"]
    assert coverage_iou(tee, labels, kp) == pytest.approx(1.0)
    region = torso_region(labels, kp)
    assert region[110, 50] and not region[150, 50]
    # hair falling over the chest is not covered by a top
    labels[60:80, 32:40] = LIP["hair"]
    assert not torso_region(labels, kp)[70, 35]
    # skin is torso only from a little below the shoulder line (a crew neck's front)
    labels[52:58, 45:55] = LIP["neck"]
    region = torso_region(labels, kp)
    assert not region[53, 50] and region[57, 50]


def test_coverage_to_the_garments_own_hem_does_not_count_a_crop_as_missing_cover():
    labels, kp = _person()
    crop = np.zeros((H, W), bool)
    crop[50:85, 30:70] = True  # a crop top: half the torso, rightly
    assert coverage_iou(crop, labels, kp) == pytest.approx(35 / 70)
    assert garment_hem_y(crop, kp) == 84
    assert coverage_iou(crop, labels, kp, to_hem=True) == pytest.approx(1.0)
    # overhang below the hips still counts against a garment, and so does a narrow one
    long = np.zeros((H, W), bool)
    long[50:160, 30:70] = True
    assert coverage_iou(long, labels, kp, to_hem=True) == pytest.approx(70 / 110)
    # ...unless its length is not judged at all: then the legs' silhouette (the trousers,
    # cols 35-65) down to its hem is the region, and only its width beyond them counts
    assert coverage_iou(long, labels, kp, to_hem=True, past_hips=True) == pytest.approx(
        (70 * 40 + 40 * 30) / (110 * 40)
    )
    narrow = np.zeros((H, W), bool)
    narrow[50:120, 40:60] = True
    assert coverage_iou(narrow, labels, kp, to_hem=True) == pytest.approx(0.5)


def test_dress_counts_only_above_the_hips():
    labels, kp = _person()
    labels[labels == LIP["upper-clothes"]] = LIP["dress"]
    labels[120:170, 30:70] = LIP["dress"]
    region = upper_body_region(labels, kp)
    assert region[60, 50] and region[119, 50] and not region[150, 50]


def test_keep_region_leaves_out_garments_and_a_margin():
    labels, kp = _person()
    mask = labels == LIP["upper-clothes"]
    keep = keep_region(labels, kp, mask, margin_frac=0.05)
    assert keep[20, 50]  # face, far from the top
    assert not keep[60, 50]  # the top itself
    assert not keep[125, 50]  # pants within the margin under the hem
    assert keep[180, 50]  # pants far below
    assert keep[100, 5]  # background away from the body


def test_masked_ssim_is_one_for_equal_images_and_sees_only_its_region():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    region = np.zeros((H, W), bool)
    region[:80] = True
    b = a.copy()
    b[120:] = 0  # changed outside the region (beyond the window's reach)
    assert masked_ssim(a, b, region) == pytest.approx(1.0)
    b[:80] = 255 - b[:80]
    assert masked_ssim(a, b, region) < 0.5
    assert np.isnan(masked_ssim(a, b, np.zeros((H, W), bool)))
    with pytest.raises(ValueError, match="equal"):
        masked_ssim(a, b[:10], region)


def test_neckline_error_sign_and_scale():
    _, kp = _person()
    mask = np.zeros((H, W), bool)
    mask[64:120, 30:70] = True  # neckline 14 px below the neck, neck-to-hip 70 px
    assert neckline_error(mask, kp) == pytest.approx(-0.2)
    mask[36:64, 40:60] = True  # a collar up to the chin
    assert neckline_error(mask, kp) == pytest.approx(0.2)
    kp[1, 2] = 0
    assert np.isnan(neckline_error(mask, kp))

"""A cold-shoulder top (straps up to the shoulders, flounce sleeves set on the upper arms
below a bare shoulder) is worn from its straps: its sleeves go round the upper arms, the
shoulders above them stay skin, and it is sized by its chest, not by the sleeves' top
corners (which the reader finds where a tee has its shoulder seams)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.render.helpers import (
    PersonSpec,
    arm_region,
    mirrored_mask,
    person_asset,
    upper_arm_rows,
)
from vton.cloth.landmarks import garment_landmarks
from vton.cloth.prep import ClothAsset
from vton.metrics.tryon_fit import garment_hem_y
from vton.render.base import RenderRequest
from vton.render.garment_geometry import garment_geometry
from vton.render.physical import PhysicalRenderer

NAVY = (30, 36, 70)
# Right half in garment units (x from the centre line, y down from the straps' tops): a
# scoop between the straps' bases, the front's top edge out to the flounce's top corner,
# the flounce down to its hem, the armpit, the body to the hem.
BODY = [(0, 0.30), (0.10, 0.25), (0.16, 0.24), (0.30, 0.29), (0.40, 0.33), (0.47, 0.52),
        (0.40, 0.57), (0.27, 0.50), (0.29, 1.0), (0, 1.0)]  # fmt: skip
STRAP = [(0.135, 0.0), (0.155, 0.0), (0.165, 0.26), (0.145, 0.26)]


def _asset(mask: np.ndarray, name: str) -> ClothAsset:
    image = np.full((*mask.shape, 3), 255, np.uint8)
    image[mask > 0] = NAVY
    return ClothAsset(image, mask, garment_landmarks(mask), {"product_id": name})


@pytest.fixture(scope="module")
def cold_shoulder() -> ClothAsset:
    return _asset(mirrored_mask(BODY, [STRAP], shape=(1024, 768), top=100, bottom=900), "cs")


def test_straps_above_sleeves_read_as_cold_shoulder(cold_shoulder):
    g = garment_geometry(cold_shoulder.mask, "cs")
    assert g.sleeve == "short" and g.cold_shoulder
    # It hangs from the straps' tops, not from the flounces' corners 0.33 lower.
    assert abs(g.hang_y - 100) < 0.02 * 800
    assert g.shoulder_y - g.hang_y > 0.25 * 800
    # Without its straps the same front is a wide-necked top with sleeves, worn from them.
    bare = _asset(mirrored_mask(BODY, shape=(1024, 768), top=100, bottom=900), "no-straps")
    g2 = garment_geometry(bare.mask, "no-straps")
    assert not g2.cold_shoulder and g2.hang_y == g2.shoulder_y


def test_cold_shoulder_is_worn_from_its_straps(cold_shoulder):
    spec = PersonSpec(512, 384, arm_angle=8)
    pa, p = person_asset(spec)
    out = PhysicalRenderer().render_one(RenderRequest("pair", cold_shoulder, pa))
    cloth = out.composition_mask >= 128
    kp = p.keypoints
    arms = arm_region(spec, p)
    # The shoulders' caps above the flounces are bare (were all covered: the flounces'
    # corners went onto the shoulder seams)...
    caps = upper_arm_rows(cloth.shape, kp, 0.0, 0.25) & arms
    assert caps.sum() > 300
    assert np.mean(cloth[caps]) < 0.25
    # ...and the flounces go round the upper arms below them (was 0.17).
    sleeves = upper_arm_rows(cloth.shape, kp, 0.6, 0.9) & arms
    assert np.mean(cloth[sleeves]) > 0.8
    # Across the shoulders only the straps rise to the shoulder line (was 0.55 of it).
    sh_y = float(kp[[2, 5], 1].mean())
    band = np.zeros_like(cloth)
    band[int(sh_y - 0.05 * spec.u) : int(sh_y + 0.02 * spec.u), int(kp[2, 0]) : int(kp[5, 0])] = 1
    assert 20 < np.count_nonzero(cloth & band) < 0.1 * band.sum()
    # Sized by its chest it reaches the hips (its hem was 0.37 torso lengths above them,
    # sized by the flounces' corners as a tee is by its seams).
    hip_y = float(kp[[8, 11], 1].mean())
    assert garment_hem_y(out.composition_mask, kp) > hip_y - 0.05 * (hip_y - sh_y)

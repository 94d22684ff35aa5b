"""A sleeveless top cut as wide at its shoulders as at its chest (a boxy crop tank, as
studio shots of sports tops show it): on a person its armholes follow the arms' inner
edges, so none of it lies on the shoulder caps or stands out beside the arms."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import (
    PersonSpec,
    arm_region,
    flat_cloth_asset,
    person_asset,
    upper_arm_rows,
)
from vton.cloth.landmarks import garment_landmarks
from vton.cloth.prep import ClothAsset
from vton.render.base import RenderRequest
from vton.render.garment_geometry import garment_geometry
from vton.render.physical import PhysicalRenderer

RED = (200, 60, 60)


@pytest.fixture(scope="module")
def boxy_tank() -> ClothAsset:
    """A tank whose straps are filled out to its width under the arms (neckline kept)."""
    tank = flat_cloth_asset("tank", RED)
    g = garment_geometry(tank.mask, "tank")
    below = int(max(g.armpit_left[1], g.armpit_right[1])) + 20
    xs = np.flatnonzero(tank.mask[below] > 127)
    top = int(np.flatnonzero(tank.mask.any(1))[0])
    box = np.zeros_like(tank.mask)
    box[top:below, xs[0] : xs[-1] + 1] = 255
    nl, nr = int(g.neck_left[0]) + 2, int(g.neck_right[0]) - 2
    box[:below, nl:nr] = tank.mask[:below, nl:nr]
    mask = np.maximum(tank.mask, box)
    image = np.full_like(tank.image, 255)
    image[mask > 0] = RED
    asset = ClothAsset(image, mask, garment_landmarks(mask), {"product_id": "boxy-tank"})
    assert garment_geometry(mask, "boxy-tank").sleeve == "sleeveless"
    return asset


def test_boxy_tank_leaves_the_shoulder_caps_bare(boxy_tank):
    spec = PersonSpec(512, 384, arm_angle=6)
    pa, p = person_asset(spec)
    out = PhysicalRenderer().render_one(RenderRequest("pair", boxy_tank, pa))
    kp = p.keypoints
    caps = upper_arm_rows(p.mask.shape, kp, 0.0, 0.45) & arm_region(spec, p)
    assert caps.sum() > 1000
    # The top of the upper arms is skin, not a flat wing of the torso part (was 0.38).
    assert np.mean(out.composition_mask[caps] >= 128) < 0.2
    # Nothing of the top stands out of the person's outline above the hips.
    outline = cv2.dilate(p.mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    upper = np.zeros_like(outline)
    upper[: int(kp[8, 1])] = True
    assert np.count_nonzero((out.composition_mask >= 32) & ~outline & upper) == 0

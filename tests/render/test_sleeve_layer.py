"""A sleeve's layer over the torso part: where the torso part is drawn, the pixels are
the torso's own warp of the garment, not the sleeve's warp of the same cloth.

The sleeve's warp samples some of the torso part near the armhole (so that no gap opens
at the seam); drawn over the torso part it laid a second, displaced copy of the chest
beside the first (a logo's end smeared, a raglan yoke's colour curled over the chest).
The garment here carries its own canvas coordinates as colours, so every pixel of the
try-on says which canvas point it came from."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import PersonSpec, cloth_asset, person_asset
from vton.cloth.prep import ClothAsset
from vton.render.base import RenderRequest
from vton.render.garment_geometry import torso_and_sleeve_masks
from vton.render.physical import PhysicalRenderer
from vton.synthetic_garments import GarmentSpec


def _coordinate_tee() -> ClothAsset:
    """A tee whose colour at canvas (x, y) is (255 x / W, 255 y / H, 128)."""
    c = cloth_asset(GarmentSpec("tee", "tee", "plain", (90, 90, 90), (90, 90, 90), seed=1))
    h, w = c.mask.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([255 * xs / (w - 1), 255 * ys / (h - 1), np.full_like(xs, 128)], 2)
    img = np.where(c.mask[..., None] > 0, img, 255).round().astype(np.uint8)
    return ClothAsset(img, c.mask, c.landmarks, c.meta)


@pytest.mark.parametrize("arm_angle", [8.0, 20.0])
def test_the_torso_part_shows_its_own_warp_next_to_the_sleeves(arm_angle):
    # No light, folds or shadows: the colours are the garment's own.
    renderer = PhysicalRenderer(shading=0.0, wrinkles=0.0, shadows=0.0)
    cloth = _coordinate_tee()
    spec = PersonSpec(512, 384, arm_angle=arm_angle, sleeves="short")
    pa, _ = person_asset(spec)
    req = RenderRequest("pair", cloth, pa)
    out = renderer.render_one(req)
    drape = renderer.drape(req)
    g = drape.plan.geometry
    hard = np.where(drape.garment_mask >= 128, 255, 0).astype(np.uint8)
    torso_m, left_m, right_m = torso_and_sleeve_masks(hard, g)
    # Canvas points well inside the torso part and away from the sleeves' own pixels.
    k = np.ones((9, 9), np.uint8)
    core = (cv2.erode(torso_m, k) > 0) & ~(cv2.dilate(cv2.max(left_m, right_m), k) > 0)
    ys, xs = np.nonzero(out.composition_mask >= 250)
    photo = np.stack([xs, ys], 1).astype(np.float64)
    canvas = drape.plan.torso(photo)
    cx, cy = np.round(canvas[:, 0]).astype(int), np.round(canvas[:, 1]).astype(int)
    ok = (cx >= 0) & (cx < g.width) & (cy >= 0) & (cy < g.height)
    ok[ok] = core[cy[ok], cx[ok]]
    assert ok.sum() > 2000
    rgb = out.tryon[ys[ok], xs[ok]].astype(np.float64)
    seen = np.stack([rgb[:, 0] / 255 * (cloth.mask.shape[1] - 1),
                     rgb[:, 1] / 255 * (cloth.mask.shape[0] - 1)], 1)  # fmt: skip
    # the drape's canvas may be the cloth's reduced
    seen *= g.width / cloth.mask.shape[1]
    err = np.hypot(*(seen - canvas[ok]).T)
    step = g.width / 255  # one colour level, in canvas pixels
    wrong = err > 3 * step + 2
    # (what is left is the sleeve's own cloth folded in at the armpit: about 1 %; the
    # sleeve's copy of the chest over the torso part made 5-7 %)
    assert wrong.mean() < 0.03, (wrong.mean(), np.percentile(err, 99.5))

"""A halter on a body: its neck band stays at the neck, the shoulders stay bare."""

from __future__ import annotations

import cv2
import numpy as np

from tests.render.helpers import PersonSpec, person_asset
from vton.cloth.landmarks import garment_landmarks
from vton.cloth.prep import ClothAsset
from vton.geometry.capsules import capsule_mask
from vton.render.base import RenderRequest
from vton.render.physical import PhysicalRenderer

# A halter's right half (x from the centre line, y down, garment heights): a neck band, an
# armhole curving into a body that bulges out and rounds into the hem.
ROUNDED_HALTER = [(0, 0.05), (0.05, 0.0), (0.07, 0.0), (0.12, 0.15), (0.24, 0.33), (0.29, 0.5),
                  (0.31, 0.7), (0.28, 0.9), (0.18, 1.0), (0, 1.0)]  # fmt: skip


def _halter_mask(h: int = 1024, w: int = 768) -> np.ndarray:
    """The halter mirrored about the centre, 0.8 of the canvas high, on the cloth stage's
    1024x768 canvas."""
    scale, top = 0.8 * h, 0.1 * h
    right = np.array([(w / 2 + x * scale, top + y * scale) for x, y in ROUNDED_HALTER])
    left = right[::-1].copy()
    left[:, 0] = w - left[:, 0]
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(np.concatenate([right, left])).astype(np.int32)], 255)
    return m


def test_halter_band_stays_at_the_neck_and_the_shoulders_stay_bare():
    mask = _halter_mask()
    image = np.full((*mask.shape, 3), 255, np.uint8)
    image[mask > 0] = (200, 30, 60)
    cloth = ClothAsset(image, mask, garment_landmarks(mask), {"product_id": "halter"})
    pa, _ = person_asset(PersonSpec(512, 384, arm_angle=20, sleeves="short"))
    out = PhysicalRenderer().render_one(RenderRequest("pair", cloth, pa))
    cover = out.composition_mask >= 128
    kp = pa.keypoints
    sw = float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    # the shoulder joints and the tops of the shoulders are bare ...
    shoulders = capsule_mask(cover.shape, [(kp[2, :2], kp[2, :2], 0.08 * sw)])
    shoulders |= capsule_mask(cover.shape, [(kp[5, :2], kp[5, :2], 0.08 * sw)])
    assert cover[shoulders].mean() < 0.1
    # ... while the chest below the neck is dressed
    chest = kp[1, :2] + np.array([0.0, 0.5 * sw])
    assert cover[capsule_mask(cover.shape, [(chest, chest, 0.1 * sw)])].mean() > 0.95

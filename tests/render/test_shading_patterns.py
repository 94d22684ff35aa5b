"""The light read off an old top: a patterned or sheer top's blotches are not light."""

from __future__ import annotations

import cv2
import numpy as np

from vton.render.shading import shading_gain


def _top(pattern: bool) -> tuple[np.ndarray, np.ndarray]:
    h, w = 400, 300
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    lum = 0.55 + 0.1 * (xx / w) + 0.02 * np.sin(yy / 9.0)  # side light and soft folds
    if pattern:
        rng = np.random.default_rng(0)
        blobs = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 6)
        lum = lum * np.exp(0.9 * blobs / blobs.std())  # mesh over skin, a print's blocks
    rgb = np.clip(np.stack([lum] * 3, -1) * 255, 0, 255).astype(np.uint8)
    region = np.zeros((h, w), bool)
    region[40:360, 40:260] = True
    return rgb, region


def test_patterned_old_top_gives_calmer_shading_than_its_blotches():
    plain_rgb, region = _top(False)
    pat_rgb, _ = _top(True)
    plain = np.log(shading_gain(plain_rgb, region, 200.0)[region])
    pat = np.log(shading_gain(pat_rgb, region, 200.0)[region])
    # the pattern's own spread is far larger than the light's ...
    photo = np.log(np.maximum(pat_rgb[..., 0][region], 1) / 255.0)
    assert photo.std() > 5 * plain.std()
    # ... and the gain read off it stays near a plain top's
    assert pat.std() < 2.5 * plain.std(), (pat.std(), plain.std())
    # the plain top's light is read (side light: brighter to the right)
    g = shading_gain(plain_rgb, region, 200.0)
    assert g[200, 240] > g[200, 60]

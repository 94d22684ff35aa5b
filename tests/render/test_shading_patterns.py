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


def _lettered_tee(letters: bool) -> tuple[np.ndarray, np.ndarray]:
    """A white tee in side light with a soft fold; `letters`: a black logo on the chest
    (anti-aliased strokes as wide as a fifth of the chest, the same neutral colour)."""
    h, w = 400, 300
    _, xx = np.mgrid[:h, :w].astype(np.float32)
    lum = 0.86 + 0.06 * (xx / w) - 0.12 * np.exp(-(((xx - 200) / 6.0) ** 2))  # a fold at x 200
    rgb = np.clip(np.stack([lum] * 3, -1) * 255, 0, 255).astype(np.uint8)
    if letters:
        ink = np.zeros((h, w), np.uint8)
        cv2.putText(ink, "AX", (70, 220), cv2.FONT_HERSHEY_SIMPLEX, 3.0, 255, 14, cv2.LINE_AA)
        a = ink.astype(np.float32)[..., None] / 255.0
        rgb = (rgb * (1 - a) + 25 * a).astype(np.uint8)
    region = np.zeros((h, w), bool)
    region[40:360, 40:260] = True
    return rgb, region


def test_black_letters_on_a_white_tee_leave_no_ghost_in_the_light():
    """The letters pass the chroma test (neutral on neutral) and are too wide for the
    median: without setting print strokes aside, their grey rims read as shadow and the
    logo ghosts onto the new garment."""
    plain_rgb, region = _lettered_tee(False)
    rgb, _ = _lettered_tee(True)
    plain = shading_gain(plain_rgb, region, 200.0)
    g = shading_gain(rgb, region, 200.0)
    logo = np.zeros_like(region)
    logo[120:240, 60:190] = True
    ghost = np.abs(np.log(g[logo]) - np.log(plain[logo]))
    assert np.percentile(ghost, 95) < 0.03, np.percentile(ghost, 95)
    # the fold beside the logo is still read as a fold
    assert g[200, 200] < 0.95 * g[200, 170]


def test_the_folds_fade_in_from_the_old_tops_edge_without_a_step():
    """An old top whose hem is in shade (a darker band just inside its edge), read
    through a blocky outline: the fold band stopped at the region's edge, and the new
    garment, longer than the old top, showed the outline as a step of light."""
    h, w = 400, 300
    rgb = np.full((h, w, 3), 140, np.uint8)
    region = np.zeros((h, w), bool)
    region[40:300, 40:260] = True
    region[280:300, 150:260] = False  # a parse's rectangular notch at the hem
    rgb[region & (np.arange(h)[:, None] >= 272)] = 112  # the hem's shade, inside
    gain = np.log(shading_gain(rgb, region, 200.0, strength=0.0, wrinkles=1.0))
    # across the bottom edge of the region (left part) and the notch's top edge
    steps = [
        np.abs(gain[299, 60:130] - gain[301, 60:130]).max(),
        np.abs(gain[279, 170:240] - gain[281, 170:240]).max(),
    ]
    assert max(steps) < 0.02, steps

"""Blurs of the weight-free renderer: the reduced-resolution Gaussian keeps what a soft
edge or shadow needs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vton.render.shading import feather, gaussian


def _disc(h: int = 480, w: int = 360) -> np.ndarray:
    m = np.zeros((h, w), np.float32)
    cv2.circle(m, (w // 2, h // 2), 110, 1.0, -1)
    return m


@pytest.mark.parametrize("sigma", [6.0, 12.0, 30.0])
def test_wide_blur_on_a_reduced_copy_matches_the_full_one(sigma):
    m = _disc()
    full = cv2.GaussianBlur(m, (0, 0), sigma)
    fast = gaussian(m, sigma)
    assert fast.shape == m.shape and fast.dtype == np.float32
    assert float(np.abs(fast - full).max()) < 0.03  # under 8/255 of an alpha anywhere
    assert float(np.abs(fast - full).mean()) < 0.003


def test_narrow_blur_is_the_full_one_and_zero_sigma_is_identity():
    m = _disc()
    assert np.array_equal(gaussian(m, 2.0), cv2.GaussianBlur(m, (0, 0), 2.0))
    assert np.array_equal(feather(m > 0.5, 0.0), m)

import cv2
import numpy as np
import pytest

from vton.geometry.tps import fit_tps, warp_image

RNG = np.random.default_rng(0)


def test_identity_warp_returns_input():
    pts = RNG.uniform(0, 100, (6, 2))
    tps = fit_tps(pts, pts)
    img = RNG.integers(0, 255, (60, 80, 3), dtype=np.uint8)
    out = warp_image(img, tps, (60, 80))
    assert np.abs(out.astype(int) - img.astype(int)).max() <= 1


def test_pure_affine_gives_zero_kernel_weights_and_exact_extrapolation():
    src = RNG.uniform(0, 500, (7, 2))
    a = np.array([[1.2, 0.1], [-0.2, 0.9]])
    dst = src @ a + [3.0, 7.0]
    tps = fit_tps(src, dst)
    assert np.abs(tps.weights).max() < 1e-9
    far = np.array([[-300.0, 900.0], [1e3, -1e3]])
    assert np.allclose(tps(far), far @ a + [3.0, 7.0])


def test_interpolates_control_points_exactly_and_regularisation_smooths():
    src = RNG.uniform(0, 500, (6, 2))
    dst = src + RNG.normal(0, 20, src.shape)
    assert np.allclose(fit_tps(src, dst)(src), dst, atol=1e-8)
    smooth = fit_tps(src, dst, regularisation=10.0)
    assert not np.allclose(smooth(src), dst, atol=1.0)


def test_bad_inputs_raise_with_shapes():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        fit_tps(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="at least 3"):
        fit_tps(np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="degenerate"):
        fit_tps(np.zeros((4, 2)), np.ones((4, 2)))


def test_coarse_grid_matches_dense_evaluation():
    src = RNG.uniform(0, 300, (5, 2))
    tps = fit_tps(src, src + RNG.normal(0, 15, src.shape))
    img = RNG.integers(0, 255, (200, 150), dtype=np.uint8)
    img = cv2.GaussianBlur(img, (0, 0), 2)
    coarse = warp_image(img, tps, (200, 150), step=4).astype(float)
    dense = warp_image(img, tps, (200, 150), step=1).astype(float)
    assert np.abs(coarse - dense).mean() < 0.5

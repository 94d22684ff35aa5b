"""The geometry the physical renderer shares with other modules: capsules (also the rule
parser's limbs) and thin-plate-spline remap maps over a box of the photo (also
`warp_image`'s)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vton.geometry.capsules import capsule_mask, nearest_on_segments
from vton.geometry.tps import backward_maps, fit_tps, warp_image

RNG = np.random.default_rng(7)


def _distance_to_segment(shape: tuple[int, int], p: np.ndarray, q: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    d = q - p
    t = np.clip(((xs - p[0]) * d[0] + (ys - p[1]) * d[1]) / max(float(d @ d), 1e-12), 0, 1)
    return np.hypot(xs - p[0] - t * d[0], ys - p[1] - t * d[1])


@pytest.mark.parametrize("radius", [0.3, 1.0, 2.5, 4.0, 9.7])
def test_capsule_covers_its_segment_to_the_radius(radius):
    shape = (100, 120)
    for _ in range(20):
        p = RNG.integers(25, 95, 2).astype(np.float64)
        q = RNG.integers(25, 75, 2).astype(np.float64)
        m = capsule_mask(shape, [(p, q, radius)])
        assert m.dtype == bool and m.shape == shape
        dist = _distance_to_segment(shape, p, q)
        assert m[dist <= radius - 0.5].all()  # the whole capsule
        assert not m[dist > max(radius, 1.0) + 1.5].any()  # and not much more
        assert m[dist == 0].all()  # a thin capsule still marks the segment


def test_capsules_union_origin_and_empty():
    shape = (40, 50)
    a = (np.array([5.0, 5.0]), np.array([30.0, 8.0]), 2.0)
    b = (np.array([10.0, 30.0]), np.array([12.0, 12.0]), 3.0)
    both = capsule_mask(shape, [a, b])
    assert np.array_equal(both, capsule_mask(shape, [a]) | capsule_mask(shape, [b]))
    # `origin` is the crop's top-left pixel in the points' frame: same as shifting the points
    origin = np.array([7.0, -3.0])
    shifted = [(p + origin, q + origin, r) for p, q, r in (a, b)]
    assert np.array_equal(capsule_mask(shape, shifted, origin), both)
    assert not capsule_mask(shape, []).any()
    with pytest.raises(ValueError, match="shape"):
        capsule_mask((4, 4, 3), [a])


def _spline():
    src = RNG.uniform(0, 200, (12, 2))
    return fit_tps(src, src * 0.8 + RNG.normal(0, 6, src.shape) + 15)


def test_nearest_on_segments_gives_each_point_its_bone_the_foot_and_the_offset():
    upper = (np.float32([0, 0]), np.float32([0, 10]), 3.0)  # shoulder to elbow, down
    fore = (np.float32([0, 10]), np.float32([10, 10]))  # elbow to wrist, right
    stub = (np.float32([5, 5]), np.float32([5, 5]))  # zero length: never the nearest
    pts = np.float32([[2, 4], [6, 12], [-3, -4], [5, 5]])
    index, along, offset = nearest_on_segments(pts, [stub, upper, fore])
    assert index.tolist() == [1, 2, 1, 1]  # the last point: a tie, the first segment wins
    assert np.allclose(along, [0.4, 0.6, 0.0, 0.5])
    assert np.allclose(offset, [[2, 0], [0, 2], [-3, -4], [5, 0]])


def test_backward_maps_sample_the_spline_at_the_box_pixels():
    tps = _spline()
    h, w, x0, y0 = 37, 53, 21, 64
    ys, xs = np.mgrid[y0 : y0 + h, x0 : x0 + w]
    exact = tps(np.stack([xs.ravel(), ys.ravel()], 1)).reshape(h, w, 2)
    mx, my = backward_maps(tps, (h, w), step=1, origin=(x0, y0))
    assert mx.dtype == np.float32 and mx.shape == (h, w) and mx.flags.c_contiguous
    assert np.allclose(mx, exact[..., 0], atol=1e-3) and np.allclose(my, exact[..., 1], atol=1e-3)
    # coarser grids interpolate the smooth spline to a small fraction of a pixel
    cx, cy = backward_maps(tps, (h, w), step=4, origin=(x0, y0))
    assert np.abs(cx - mx).max() < 0.1 and np.abs(cy - my).max() < 0.1


def test_backward_maps_of_a_box_are_that_part_of_the_whole_maps():
    tps = _spline()
    full_x, full_y = backward_maps(tps, (120, 96), step=4)
    x0, y0 = 24, 40  # on the coarse grid: the same samples, so the same maps
    bx, by = backward_maps(tps, (48, 40), step=4, origin=(x0, y0))
    assert np.allclose(bx, full_x[y0 : y0 + 48, x0 : x0 + 40], atol=1e-4)
    assert np.allclose(by, full_y[y0 : y0 + 48, x0 : x0 + 40], atol=1e-4)


def test_warp_image_is_a_remap_through_the_maps():
    tps = _spline()
    img = RNG.integers(0, 256, (150, 160, 3), dtype=np.uint8)
    mx, my = backward_maps(tps, (90, 70), step=3)
    ref = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                    borderValue=(255, 255, 255))  # fmt: skip
    out = warp_image(img, tps, (90, 70), step=3, border_value=(255, 255, 255))
    assert np.array_equal(out, ref)
    with pytest.raises(ValueError, match="step"):
        backward_maps(tps, (10, 10), step=0)

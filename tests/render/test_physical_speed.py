"""The physical renderer's shortcuts compute what the plain code computes.

Each shortcut (a faster spline evaluation, blurs over the box a layer occupies, per-asset
results kept across pairs) is only worth having if the try-on stays the same to the bit:
each is compared here with the straightforward computation it replaces."""

from __future__ import annotations

import pickle
from dataclasses import replace

import cv2
import numpy as np
import pytest

from tests.render.helpers import PersonSpec, cloth_asset, person_asset
from vton.geometry.tps import backward_maps, fit_tps
from vton.render import physical
from vton.render.base import RenderRequest
from vton.render.garment_geometry import garment_geometry, torso_and_sleeve_masks
from vton.render.physical import PhysicalRenderer
from vton.render.shading import REDUCE_ABOVE, feather
from vton.synthetic_garments import GarmentSpec


def _spline(seed: int):
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 300, (40, 2))
    dst = src * 0.8 + rng.normal(0, 6, src.shape) + 20
    return fit_tps(src, dst, 1e-3)


@pytest.mark.parametrize("step", [1, 4, 8])
def test_grid_spline_maps_match_the_reference(step):
    spline = _spline(step)
    ref = backward_maps(spline, (150, 110), step=step, origin=(37, 21))
    fast = physical._backward_maps(spline, (150, 110), step=step, origin=(37, 21))
    for r, f in zip(ref, fast, strict=True):
        assert f.dtype == np.float32 and f.shape == (150, 110) and f.flags.c_contiguous
        np.testing.assert_allclose(f, r, rtol=0, atol=1e-4)
        assert np.mean(f == r) > 0.999  # the same float32 maps, but for rare last bits


def _sparse_mask(shape, boxes, seed=0):
    rng = np.random.default_rng(seed)
    m = np.zeros(shape, np.float32)
    for y0, y1, x0, x1 in boxes:
        m[y0:y1, x0:x1] = rng.uniform(0, 1, (y1 - y0, x1 - x0))
    return m


@pytest.mark.parametrize(
    "boxes",
    [[(40, 60, 50, 90)], [(0, 10, 0, 15), (110, 120, 130, 140)], [(5, 115, 3, 137)]],
    ids=["inside", "at the borders", "nearly all"],
)
@pytest.mark.parametrize("sigma", [0.6, 1.6, 3.9, REDUCE_ABOVE + 2])
def test_feathering_in_a_box_matches_the_whole_crop(boxes, sigma):
    m = _sparse_mask((120, 140), boxes)
    assert np.array_equal(physical._feather_mask(m, sigma), feather(m, sigma))
    assert np.array_equal(physical._feather_mask(m > 0.5, sigma), feather(m > 0.5, sigma))
    assert not physical._feather_mask(np.zeros((9, 9), bool), sigma).any()


def test_a_layer_feathered_in_its_box_is_zero_beyond_it():
    alpha = np.ones((10, 12), np.float32)
    box, a = physical._feather_in_box(alpha, (50, 60, 70, 82), (200, 160), 1.0)
    y0, y1, x0, x1 = box
    full = np.zeros((200, 160), np.float32)
    full[50:60, 70:82] = 1.0
    ref = feather(full, 1.0)
    assert np.array_equal(a, ref[y0:y1, x0:x1])
    outside = ref.copy()
    outside[y0:y1, x0:x1] = 0
    assert not outside.any()


def test_cloth_rests_on_the_shoulders_as_over_the_whole_crop():
    rng = np.random.default_rng(3)
    person = cv2.GaussianBlur(rng.uniform(0, 1, (160, 120)).astype(np.float32), (0, 0), 6) > 0.5
    rows, cols = np.arange(160, dtype=np.float32), np.arange(120, dtype=np.float32)
    level = (rows[:, None] * 0.97 - 40.0) + np.float32(0.2) * cols[None, :]

    seam_level, sw, fsig = -5.0, 60.0, 1.6
    until, fade = seam_level + 0.2 * sw, physical.SHOULDER_FADE * sw
    ramp = np.clip((level - np.float32(until - fade)) * np.float32(1.0 / fade), 0.0, 1.0)
    grown = cv2.dilate(
        person.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    )
    ref = np.maximum(feather(grown, fsig), ramp)
    out = physical._on_shoulders(person, level, until, sw, fsig)
    assert np.array_equal(out, ref)
    assert (out < 1).any() and (out == 1).any()  # both parts of the crop are exercised


def test_asset_memo_keeps_results_per_object():
    memo = physical._AssetMemo(size=2)
    a, b, c = np.zeros(3), np.zeros(3), np.zeros(3)
    calls = []

    def make(tag):
        calls.append(tag)
        return tag

    assert memo.get(a, lambda: make("a")) == "a"
    assert memo.get(a, lambda: make("a2")) == "a"  # same object: kept
    assert memo.get(b, lambda: make("b")) == "b"  # equal content, other object: its own
    assert memo.get(c, lambda: make("c")) == "c"  # the oldest (a) makes room
    assert memo.get(a, lambda: make("a3")) == "a3"
    assert calls == ["a", "b", "c", "a3"]
    with pytest.raises(RuntimeError):
        memo.get(np.ones(2), lambda: (_ for _ in ()).throw(RuntimeError("bad")))
    again = pickle.loads(pickle.dumps(memo))
    assert again.get(a, lambda: "fresh") == "fresh"  # a copy elsewhere starts empty


@pytest.mark.parametrize("size", [(256, 192), (1024, 768)])
def test_renders_with_kept_results_are_the_same(size):
    cloth = cloth_asset(GarmentSpec("tee-logo", "tee", "logo", (30, 110, 60), (250, 250, 250)))
    pa, _ = person_asset(PersonSpec(*size, sleeves="long"))
    warm = PhysicalRenderer()
    first = warm.render_one(RenderRequest("p", cloth, pa))
    second = warm.render_one(RenderRequest("p", cloth, pa))  # geometry and body kept
    fresh = PhysicalRenderer().render_one(RenderRequest("p", cloth, pa))
    for out in (second, fresh):
        assert np.array_equal(out.tryon, first.tryon)
        assert np.array_equal(out.warped_cloth, first.warped_cloth)
        assert np.array_equal(out.composition_mask, first.composition_mask)


@pytest.mark.parametrize("style", ["tee", "tank", "longsleeve"])
def test_parts_split_on_the_cut_canvas_match_the_whole_canvas(style):
    cloth = cloth_asset(GarmentSpec(f"g-{style}", style, "plain", (200, 60, 60), (0, 0, 0)))
    hard = physical._hard(cloth.mask)
    assert np.array_equal(hard, np.where(cloth.mask >= 128, 255, 0).astype(np.uint8))
    geom = garment_geometry(cloth.mask)
    ref = torso_and_sleeve_masks(hard, geom)
    # the same split on the canvas cut below and right of the garment
    rows, cols = np.flatnonzero(hard.any(1)), np.flatnonzero(hard.any(0))
    h1, w1 = int(rows[-1]) + 1, int(cols[-1]) + 1
    cut = torso_and_sleeve_masks(
        np.ascontiguousarray(hard[:h1, :w1]), replace(geom, width=w1, height=h1)
    )
    for part, want in zip(cut, ref, strict=True):
        got = np.zeros_like(want)
        got[:h1, :w1] = part
        assert got.shape == want.shape and np.array_equal(got, want)
    assert ref[0].any() and (style == "tank" or ref[1].any())

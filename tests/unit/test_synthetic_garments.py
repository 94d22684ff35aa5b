"""Tests for the synthetic garment generator (sample catalogue + masking benchmarks)."""

from __future__ import annotations

import dataclasses
import re
import time

import numpy as np
import pytest

from vton.synthetic_garments import (
    PATTERNS,
    STYLES,
    GarmentSpec,
    SyntheticGarment,
    render_garment,
    sample_catalog_specs,
)

NAVY = (24, 37, 72)
CREAM = (246, 244, 238)


def _spec(**overrides: object) -> GarmentSpec:
    fields: dict[str, object] = {
        "product_id": "test-garment",
        "style": "tee",
        "pattern": "plain",
        "colour": NAVY,
        "accent": CREAM,
        "width": 300,
        "height": 400,
        "scale": 0.8,
        "seed": 0,
    }
    fields.update(overrides)
    return GarmentSpec(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def catalog() -> list[SyntheticGarment]:
    return [render_garment(spec) for spec in sample_catalog_specs()]


def _non_white(image: np.ndarray) -> np.ndarray:
    return (image != 255).any(axis=-1)


def _row_runs(row: np.ndarray) -> int:
    """Number of runs of garment pixels in one mask row."""
    on = (row > 0).astype(np.int8)
    return int(np.count_nonzero(np.diff(np.concatenate([[0], on, [0]])) == 1))


# ---------------------------------------------------------------------------------------------
# Output contract
# ---------------------------------------------------------------------------------------------


def test_same_spec_renders_identical_arrays() -> None:
    spec = _spec(pattern="stripes", seed=123)
    first, second = render_garment(spec), render_garment(spec)
    assert np.array_equal(first.image, second.image)
    assert np.array_equal(first.mask, second.mask)


def test_seed_changes_the_render_but_not_the_global_rng() -> None:
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    a = render_garment(_spec(seed=1))
    b = render_garment(_spec(seed=2))
    assert not np.array_equal(a.image, b.image)
    assert np.array_equal(np.random.get_state()[1], before)


def test_shapes_dtypes_and_labels(catalog: list[SyntheticGarment]) -> None:
    sleeves = {"tee": "short", "tank": "sleeveless", "longsleeve": "long"}
    for garment in catalog:
        spec = garment.spec
        assert garment.image.shape == (spec.height, spec.width, 3)
        assert garment.image.dtype == np.uint8
        assert garment.mask.shape == (spec.height, spec.width)
        assert garment.mask.dtype == np.uint8
        assert garment.category == "top"
        assert garment.sleeve == sleeves[spec.style]


def test_mask_is_binary_and_equals_non_white_pixels(catalog: list[SyntheticGarment]) -> None:
    for garment in catalog:
        assert set(np.unique(garment.mask).tolist()) == {0, 255}, garment.spec.product_id
        inside = garment.mask == 255
        non_white = _non_white(garment.image)
        agreement = np.mean(inside == non_white)
        assert agreement > 0.995, garment.spec.product_id
        # The module promises more than the 1-px tolerance: AA stays inside the mask.
        assert np.array_equal(inside, non_white), garment.spec.product_id
        assert (garment.image[~inside] == 255).all()


def test_mask_is_a_single_solid_garment_of_plausible_size(catalog: list[SyntheticGarment]) -> None:
    import cv2

    for garment in catalog:
        spec = garment.spec
        n_labels, _ = cv2.connectedComponents((garment.mask > 0).astype(np.uint8))
        assert n_labels == 2, spec.product_id  # background + one garment
        fraction = np.count_nonzero(garment.mask) / garment.mask.size
        assert 0.15 < fraction < 0.75, (spec.product_id, fraction)
        # Never clipped by the image border.
        assert not garment.mask[0].any() and not garment.mask[-1].any()
        assert not garment.mask[:, 0].any() and not garment.mask[:, -1].any()


def test_white_garment_still_differs_from_studio_white() -> None:
    garment = render_garment(_spec(colour=(255, 255, 255), accent=(255, 255, 255)))
    assert np.array_equal(garment.mask == 255, _non_white(garment.image))


def test_scale_sets_garment_height() -> None:
    spec = _spec(width=1000, height=800, scale=0.75)  # wide enough not to need shrinking
    rows = np.flatnonzero(render_garment(spec).mask.any(axis=1))
    assert abs((rows[-1] - rows[0] + 1) - 0.75 * 800) <= 3


def test_wide_garment_is_shrunk_to_fit_a_narrow_image() -> None:
    garment = render_garment(_spec(style="longsleeve", width=200, height=400, scale=1.0))
    cols = np.flatnonzero(garment.mask.any(axis=0))
    assert cols[0] > 0 and cols[-1] < 199


# ---------------------------------------------------------------------------------------------
# Silhouettes
# ---------------------------------------------------------------------------------------------


def test_tank_has_no_sleeves() -> None:
    tee = render_garment(_spec(style="tee")).mask
    tank = render_garment(_spec(style="tank")).mask
    tee_width = np.count_nonzero(tee.any(axis=0))
    tank_width = np.count_nonzero(tank.any(axis=0))
    assert tank_width < 0.8 * tee_width
    assert np.count_nonzero(tank) < np.count_nonzero(tee)

    def top_vs_hem_width(mask: np.ndarray) -> float:
        rows = np.flatnonzero(mask.any(axis=1))
        top, height = rows[0], rows[-1] - rows[0]
        upper = np.count_nonzero(mask[top + int(0.2 * height)])
        lower = np.count_nonzero(mask[top + int(0.8 * height)])
        return upper / lower

    # Sleeves make a tee wider at 20% of its height than at the hem; armholes make a tank
    # narrower there.
    assert top_vs_hem_width(tee) > 1.2
    assert top_vs_hem_width(tank) < 0.9


def test_necklines_dip_at_the_top_centre() -> None:
    for style in STYLES:
        mask = render_garment(_spec(style=style)).mask
        rows = np.flatnonzero(mask.any(axis=1))
        centre_col = mask[:, mask.shape[1] // 2]
        first_centre = np.flatnonzero(centre_col)[0]
        assert first_centre - rows[0] > 0.05 * (rows[-1] - rows[0]), style


def test_long_sleeves_reach_down_beside_the_body() -> None:
    mask = render_garment(_spec(style="longsleeve", width=400, height=400)).mask
    rows = np.flatnonzero(mask.any(axis=1))
    near_hem = rows[0] + int(0.88 * (rows[-1] - rows[0]))
    assert _row_runs(mask[near_hem]) == 3  # left cuff, body, right cuff
    tee = render_garment(_spec(style="tee", width=400, height=400)).mask
    assert _row_runs(tee[near_hem]) == 1


# ---------------------------------------------------------------------------------------------
# Patterns
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p != "plain"])
def test_pattern_pixels_stay_inside_the_mask(pattern: str) -> None:
    accent = (240, 200, 30)
    plain = render_garment(_spec(pattern="plain", accent=accent))
    patterned = render_garment(_spec(pattern=pattern, accent=accent, text="VTON"))
    assert np.array_equal(plain.mask, patterned.mask)
    changed = (plain.image != patterned.image).any(axis=-1)
    inside = patterned.mask == 255
    assert changed.sum() > 0.01 * inside.sum()
    assert not (changed & ~inside).any()
    # Accent-coloured pixels (yellow on navy) appear only inside the mask.
    yellowish = (patterned.image[..., 0] > 150) & (patterned.image[..., 2] < 100)
    assert yellowish.any()
    assert not (yellowish & ~inside).any()


def test_stripes_are_horizontal_with_about_12_per_garment() -> None:
    garment = render_garment(_spec(pattern="stripes", accent=(240, 200, 30), height=600))
    column = garment.image[:, garment.image.shape[1] // 2]
    inside = garment.mask[:, garment.image.shape[1] // 2] == 255
    is_accent = (column[:, 0] > 150) & inside
    starts = np.count_nonzero(np.diff(is_accent.astype(np.int8)) == 1)
    assert 9 <= starts <= 13
    # Horizontal: within one stripe row, the body is uniformly accent across its width.
    row = int(np.flatnonzero(is_accent)[len(np.flatnonzero(is_accent)) // 2])
    row_inside = garment.mask[row] == 255
    assert (garment.image[row, row_inside, 0] > 150).mean() > 0.95


def test_text_and_logo_sit_on_the_chest() -> None:
    for pattern in ("text", "logo"):
        plain = render_garment(_spec(pattern="plain"))
        printed = render_garment(_spec(pattern=pattern, text="HELLO"))
        changed = (plain.image != printed.image).any(axis=-1)
        ys, xs = np.nonzero(changed)
        rows = np.flatnonzero(plain.mask.any(axis=1))
        top, height = rows[0], rows[-1] - rows[0]
        centre_x = (plain.mask.shape[1] - 1) / 2
        assert abs(xs.mean() - centre_x) < 0.03 * height, pattern
        assert top + 0.15 * height < ys.mean() < top + 0.55 * height, pattern


def test_shading_is_subtle_but_present() -> None:
    garment = render_garment(_spec(colour=(200, 60, 60), width=600, height=800))
    inside = garment.mask == 255
    # Ignore anti-aliased edge pixels: erode the mask a little.
    import cv2

    core = cv2.erode(garment.mask, np.ones((7, 7), np.uint8)) == 255
    red = garment.image[..., 0][core].astype(float)
    assert red.max() <= 200
    assert red.std() > 0.5  # not a flat fill
    assert np.median(red) > 0.9 * 200  # but not heavily darkened
    assert inside.sum() > core.sum()


# ---------------------------------------------------------------------------------------------
# Catalogue and validation
# ---------------------------------------------------------------------------------------------


def test_sample_catalog_is_varied_with_safe_unique_ids() -> None:
    specs = sample_catalog_specs()
    assert len(specs) == 10
    ids = [spec.product_id for spec in specs]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[a-z0-9-]+", pid) for pid in ids)
    assert {spec.style for spec in specs} == set(STYLES)
    assert {spec.pattern for spec in specs} == set(PATTERNS)
    assert len({(spec.width, spec.height) for spec in specs}) >= 3
    assert len({spec.width / spec.height for spec in specs}) >= 2
    assert all(0.6 <= spec.scale <= 0.9 for spec in specs)
    assert any(min(spec.colour) >= 220 for spec in specs)  # white-on-white case
    assert all(spec.text.strip() for spec in specs if spec.pattern == "text")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"style": "hoodie"}, "style"),
        ({"pattern": "polka"}, "pattern"),
        ({"width": 63}, "width"),
        ({"height": 10}, "height"),
        ({"width": 100.5}, "width"),
        ({"scale": 0.0}, "scale"),
        ({"scale": float("nan")}, "scale"),
        ({"colour": (0, 0, 256)}, "colour"),
        ({"accent": (1, 2)}, "accent"),
        ({"product_id": "../etc"}, "product_id"),
        ({"product_id": "a/b"}, "product_id"),
        ({"product_id": ""}, "product_id"),
        ({"pattern": "text", "text": "  "}, "text"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_specs_raise_value_error_naming_the_field(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=field):
        render_garment(_spec(**overrides))


def test_spec_is_frozen_and_normalises_colour_lists() -> None:
    spec = _spec(colour=[1, 2, 3])
    assert spec.colour == (1, 2, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.style = "tank"  # type: ignore[misc]


def test_render_is_fast_at_1000x1200() -> None:
    spec = _spec(pattern="logo", width=1000, height=1200, scale=0.9)
    render_garment(spec)  # warm-up (font loading, allocator)
    start = time.perf_counter()
    for _ in range(3):
        render_garment(spec)
    per_call = (time.perf_counter() - start) / 3
    assert per_call < 0.25  # typically ~25 ms; generous bound for slow CI machines

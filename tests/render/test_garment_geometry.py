"""Garment reading on front-view silhouettes of every common upper-body cut.

Each cut is drawn as a polygon from its right half (x from the centre line, y down, in
fractions of the garment's height), mirrored, on a 512-row canvas; the test knows where
its shoulders, armpits and hem are and checks that `garment_geometry` finds them, or that
a silhouette which is not an upright front view is refused with the reason.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import mirrored_mask
from vton.errors import InvalidInputError
from vton.render.garment_geometry import (
    _merged_sleeves,
    garment_geometry,
    torso_and_sleeve_masks,
)
from vton.synthetic_garments import render_garment, sample_catalog_specs

H, W = 512, 512
TOP, BOTTOM = 40, 472  # the garment's rows on the canvas


def _canvas(right: list[tuple[float, float]], extra: list[list[tuple[float, float]]] = ()):
    """Mask of the polygon whose right half is `right` ((x, y) garment units, from the top
    of the centre line clockwise to the bottom of it), mirrored; `extra` polygons (in the
    same units, drawn as given and mirrored) are added (straps, hooks)."""
    return mirrored_mask(right, extra, shape=(H, W), top=TOP, bottom=BOTTOM)


def _u(x: float, y: float) -> tuple[float, float]:
    """Garment units -> canvas pixels."""
    scale = BOTTOM - TOP
    return (W / 2 + x * scale, TOP + y * scale)


# Right halves: neck centre (x=0) at the top, then clockwise.
TEE = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.5, 0.3), (0.4, 0.36), (0.3, 0.27),
       (0.3, 1.0), (0, 1.0)]  # fmt: skip
FITTED_TEE = [(0, 0.06), (0.1, 0.0), (0.28, 0.06), (0.46, 0.28), (0.37, 0.34), (0.28, 0.27),
              (0.25, 0.55), (0.29, 0.85), (0.3, 1.0), (0, 1.0)]  # fmt: skip
# the sleeve lies over the body's side from the shoulder down, leaving it only above the
# cuff: no gap shows the armpit
LONGSLEEVE_DOWN = [(0, 0.06), (0.1, 0.0), (0.3, 0.06), (0.42, 0.2), (0.47, 0.85),
                   (0.34, 0.85), (0.3, 0.575), (0.3, 1.0), (0, 1.0)]  # fmt: skip
TANK = [(0, 0.18), (0.1, 0.0), (0.18, 0.0), (0.2, 0.1), (0.3, 0.3), (0.3, 1.0), (0, 1.0)]
CROP = [(0, 0.1), (0.14, 0.0), (0.42, 0.1), (0.62, 0.45), (0.5, 0.55), (0.4, 0.4),
        (0.4, 1.0), (0, 1.0)]  # fmt: skip
HALTER = [(0, 0.0), (0.06, 0.0), (0.16, 0.25), (0.26, 0.45), (0.3, 0.8), (0.28, 0.95),
          (0.2, 1.0), (0, 1.0)]  # fmt: skip
OFF_SHOULDER = [(0, 0.05), (0.55, 0.0), (0.75, 0.08), (0.8, 0.3), (0.6, 0.34), (0.45, 0.3),
                (0.45, 1.0), (0, 1.0)]  # fmt: skip
PEPLUM = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.5, 0.3), (0.4, 0.36), (0.3, 0.27),
          (0.27, 0.6), (0.42, 0.95), (0.4, 1.0), (0, 1.0)]  # fmt: skip
BELL = [(0, 0.06), (0.1, 0.0), (0.3, 0.06), (0.45, 0.4), (0.65, 0.75), (0.4, 0.8),
        (0.33, 0.4), (0.31, 0.35), (0.31, 1.0), (0, 1.0)]  # fmt: skip
POLO = [(0, 0.1), (0.05, 0.0), (0.12, 0.0), (0.3, 0.08), (0.5, 0.3), (0.4, 0.36),
        (0.3, 0.27), (0.3, 1.0), (0, 1.0)]  # fmt: skip
CAMI = [(0, 0.25), (0.22, 0.15), (0.3, 0.3), (0.3, 1.0), (0, 1.0)]
# Sleeveless shells: a crew neck, wide straps, and an armhole curving in from the strap to
# the armpit at 0.3 (a tee cut sleeveless, a shell blouse), straight or flared (A-line)
SHELL = [(0, 0.05), (0.12, 0.0), (0.2, 0.02), (0.205, 0.12), (0.23, 0.22), (0.27, 0.28),
         (0.3, 0.3), (0.3, 1.0), (0, 1.0)]  # fmt: skip
A_LINE_SHELL = [*SHELL[:-3], (0.3, 0.3), (0.4, 1.0), (0, 1.0)]
CAMI_STRAPS = [[(0.195, 0.0), (0.205, 0.0), (0.225, 0.17), (0.205, 0.17)]]
HANGER = [[(-0.005, -0.07), (0.005, -0.07), (0.005, 0.02), (-0.005, 0.02)]]
MANNEQUIN_NECK = [[(0.0, -0.05), (0.09, -0.05), (0.09, 0.02), (0.0, 0.02)]]


def test_tee_landmarks():
    g = garment_geometry(_canvas(TEE))
    assert g.sleeve == "short"
    for side, sh in ((-1, g.shoulder_left), (1, g.shoulder_right)):
        assert sh[0] == pytest.approx(_u(side * 0.3, 0.07)[0], abs=0.06 * (BOTTOM - TOP))
    for ap, side in ((g.armpit_left, -1), (g.armpit_right, 1)):
        ex, ey = _u(side * 0.3, 0.27)
        assert abs(ap[0] - ex) < 8 and abs(ap[1] - ey) < 12, ap
    assert g.hem_y == pytest.approx(BOTTOM, abs=10)
    assert g.neck_centre[1] == pytest.approx(_u(0, 0.06)[1], abs=6)


def test_shaped_body_keeps_its_armpit_at_the_sleeve():
    """A fitted tee narrows at the waist: the armpit is where the sleeve joins, not where
    a straight side line from the hem would leave the body."""
    g = garment_geometry(_canvas(FITTED_TEE))
    ex, ey = _u(0.28, 0.27)
    assert abs(g.armpit_right[1] - ey) < 12 and abs(g.armpit_right[0] - ex) < 10
    assert g.sleeve_right is not None and g.sleeve_right.separation is None


def test_long_sleeves_lying_on_the_body():
    g = garment_geometry(_canvas(LONGSLEEVE_DOWN))
    assert g.sleeve == "long"
    assert g.sleeve_right is not None and g.sleeve_right.overlaps_body
    # the anatomical armpit is high up, not at the cuff
    assert g.armpit_right[1] < _u(0, 0.45)[1]


def test_a_sleeve_hiding_one_side_of_the_body_takes_the_other_sides_line():
    """The left sleeve lies over the body from the shoulder to below the hem (as a long
    sleeve often does in a product photo), the right one hangs clear: the left side is
    read as the right one mirrored, so both armpits sit where the body's sides are."""
    right = _canvas(LONGSLEEVE_DOWN)
    over = [(0, 0.06), (0.1, 0.0), (0.3, 0.06), (0.42, 0.2), (0.45, 1.06), (0.33, 1.06),
            (0.3, 1.0), (0, 1.0)]  # fmt: skip
    left = _canvas(over)
    mask = np.concatenate([left[:, : W // 2], right[:, W // 2 :]], axis=1)
    g = garment_geometry(mask, "one sleeve over the body")
    assert g.sleeve == "long"
    assert abs(g.armpit_left[1] - g.armpit_right[1]) < 4
    assert g.armpit_left[1] < _u(0, 0.45)[1]
    # the hem is the body's, not the cuff's below it
    assert g.hem_y == pytest.approx(BOTTOM, abs=10)
    assert g.centre_x == pytest.approx(W / 2, abs=3)
    # the left side line is the body's (x = 0.3 from the centre), not the sleeve's edge
    assert g.side_x(-1, _u(0, 0.9)[1]) == pytest.approx(_u(-0.3, 0)[0], abs=8)


def _halves(left_half, right_half) -> np.ndarray:
    """A mask whose viewer's left is `left_half` mirrored and right is `right_half`."""
    left, right = _canvas(left_half), _canvas(right_half)
    return np.concatenate([left[:, : W // 2], right[:, W // 2 :]], axis=1)


def test_sleeves_of_very_different_lengths_are_refused():
    """What a mask that took in a strip of backdrop beside one sleeve looks like."""
    long_right = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.55, 0.75), (0.45, 0.78), (0.3, 0.27),
                  (0.3, 1.0), (0, 1.0)]  # fmt: skip
    with pytest.raises(InvalidInputError, match="one sleeve far longer than the other"):
        garment_geometry(_halves(TEE, long_right), "odd sleeves")


@pytest.mark.parametrize(
    "name, right, extra",
    [
        ("tank", TANK, ()),
        ("cami with 3 px straps", CAMI, CAMI_STRAPS),
        ("halter", HALTER, ()),
        ("shell", SHELL, ()),
        ("A-line shell", A_LINE_SHELL, ()),
    ],
)
def test_sleeveless_cuts(name, right, extra):
    g = garment_geometry(_canvas(right, list(extra)), name)
    assert g.sleeve == "sleeveless", name
    assert g.armpit_left[1] < g.hem_y - 0.3 * (BOTTOM - TOP)
    if name.endswith("shell"):  # the armhole's knee, not the strap's top
        assert _u(0, 0.15)[1] < g.armpit_left[1] < _u(0, 0.32)[1]
        assert _u(0, 0.15)[1] < g.armpit_right[1] < _u(0, 0.32)[1]


def test_an_armhole_is_not_read_as_a_sleeve_merged_with_the_body():
    """The reading by the shoulders takes everything outside the lines down from the
    shoulder corners for sleeves. Below a strap those corners are the strap's: an armhole
    curving in to it is a concave notch where a sleeve's cap hangs convex, and the reading
    declines it (the flared sides of an A-line shell or dress are body)."""
    for right in (SHELL, A_LINE_SHELL):
        fg = _canvas(right)[::2, ::2] >= 128  # the reading's own scale (256 rows)
        assert _merged_sleeves(fg) is None
    bells = _canvas(MERGED_BELLS)[::2, ::2] >= 128
    assert _merged_sleeves(bells).sleeve == "long"


def test_crop_top_is_read_with_its_short_body():
    g = garment_geometry(_canvas(CROP), "crop")
    assert g.sleeve == "short"
    # a crop top is as wide as it is long: its body is short for its chest
    assert (g.hem_y - g.shoulder_y) / (2 * g.chest_half_width) < 1.4


@pytest.mark.parametrize(
    "name, right, sleeve",
    [
        ("off-shoulder", OFF_SHOULDER, "short"),
        ("peplum hem", PEPLUM, "short"),
        ("bell sleeves", BELL, "long"),
        ("polo collar", POLO, "short"),
    ],
)
def test_other_cuts_are_read(name, right, sleeve):
    g = garment_geometry(_canvas(right), name)
    assert g.sleeve == sleeve, name
    torso, left, right_m = torso_and_sleeve_masks(_canvas(right), g)
    # the sleeves are split off and the torso part keeps the body
    assert left.any() and right_m.any()
    assert torso[BOTTOM - 20, W // 2] == 255
    if name == "peplum hem":  # the flare past the side line is body, not sleeve
        x, y = (round(v) for v in _u(0.38, 0.93))
        assert torso[y, x] == 255 and right_m[y, x] == 0


@pytest.mark.parametrize("extra", [HANGER, MANNEQUIN_NECK], ids=["hanger", "mannequin neck"])
def test_hanger_or_mannequin_neck_above_the_collar(extra):
    plain = garment_geometry(_canvas(TEE))
    g = garment_geometry(_canvas(TEE, extra))
    assert abs(g.shoulder_y - plain.shoulder_y) < 8
    assert abs(g.hem_y - plain.hem_y) < 4


@pytest.mark.parametrize("spec", sample_catalog_specs(), ids=lambda s: s.product_id)
def test_every_bundled_sample_garment_is_read_as_its_style(spec):
    """The main job's own garments, among them a long-sleeve whose sleeves merge with the
    body down to the cuffs: none may be refused."""
    g = render_garment(spec)
    assert garment_geometry(g.mask, spec.product_id).sleeve == g.sleeve


def test_not_a_front_view_is_refused_with_the_reason():
    # trousers: two legs, nothing at the centre near the bottom
    legs = np.zeros((H, W), np.uint8)
    cv2.rectangle(legs, (150, 40), (360, 200), 255, -1)
    cv2.rectangle(legs, (150, 200), (240, 470), 255, -1)
    cv2.rectangle(legs, (270, 200), (360, 470), 255, -1)
    with pytest.raises(InvalidInputError, match="trousers: garment silhouette not understood"):
        garment_geometry(legs, "trousers")
    # a raglan blob merged with its sleeves: no shoulder corner shows where the body is
    blob = [(0, 0.06), (0.1, 0.0), (0.2, 0.1), (0.55, 0.5), (0.6, 0.9), (0.12, 0.9),
            (0.12, 1.0), (0, 1.0)]  # fmt: skip
    with pytest.raises(InvalidInputError, match="hem far narrower than the chest"):
        garment_geometry(_canvas(blob), "blob")
    # a garment lying on its side: far wider than long
    side = np.zeros((H, W), np.uint8)
    cv2.ellipse(side, (256, 256), (240, 60), 0, 0, 360, 255, -1)
    with pytest.raises(InvalidInputError, match="times as wide as long"):
        garment_geometry(side, "folded")


# Bell sleeves hanging from the shoulder seams beside a narrower body, merged with it down
# to below the hem: the outline never runs along the body's sides.
MERGED_BELLS = [(0, 0.06), (0.1, 0.0), (0.3, 0.06), (0.55, 0.5), (0.6, 0.9), (0.12, 0.9),
                (0.12, 1.0), (0, 1.0)]  # fmt: skip


def test_sleeves_merged_with_the_body_are_read_by_the_shoulders():
    g = garment_geometry(_canvas(MERGED_BELLS), "bells")
    assert g.sleeve == "long"
    # the shoulder seams are the top edge's corners, the body's sides run down from them
    for p, x in ((g.shoulder_left, -0.3), (g.shoulder_right, 0.3)):
        assert p[0] == pytest.approx(_u(x, 0)[0], abs=8)
        assert p[1] == pytest.approx(_u(0, 0.06)[1], abs=12)
    assert g.side_x(-1, _u(0, 0.5)[1]) == pytest.approx(_u(-0.3, 0)[0], abs=8)
    assert g.side_x(1, _u(0, 0.5)[1]) == pytest.approx(_u(0.3, 0)[0], abs=8)
    # armpits between shoulder and hem, the hem the body's, not the cuffs'
    assert g.shoulder_y < g.armpit_left[1] < _u(0, 0.45)[1]
    assert g.hem_y == pytest.approx(BOTTOM, abs=10)
    torso, left, right = torso_and_sleeve_masks(_canvas(MERGED_BELLS), g)
    # the bells are the sleeves; the body between the shoulder lines is the torso
    x, y = (round(v) for v in _u(0.5, 0.8))
    assert right[y, x] == 255 and torso[y, x] == 0
    x, y = (round(v) for v in _u(-0.5, 0.8))
    assert left[y, x] == 255 and torso[y, x] == 0
    assert torso[round(_u(0, 0.95)[1]), W // 2] == 255


def test_merged_reading_is_not_used_for_a_sleeveless_or_short_sleeved_top():
    """Only sleeves hanging beside the body are read by the shoulders: a rounded sleeveless
    body or a short sleeve beside a piece of backdrop keeps its refusal."""
    long_right = [(0, 0.06), (0.1, 0.0), (0.3, 0.07), (0.55, 0.75), (0.45, 0.78), (0.3, 0.27),
                  (0.3, 1.0), (0, 1.0)]  # fmt: skip
    with pytest.raises(InvalidInputError, match="one sleeve far longer than the other"):
        garment_geometry(_halves(TEE, long_right), "odd sleeves")
    # 04825-like: a halter's neck band with an armhole curving into a body that bulges out
    # below it and rounds into the hem
    rounded = [(0, 0.05), (0.05, 0.0), (0.07, 0.0), (0.1, 0.12), (0.2, 0.3), (0.28, 0.5),
               (0.31, 0.7), (0.28, 0.9), (0.18, 1.0), (0, 1.0)]  # fmt: skip
    try:
        g = garment_geometry(_canvas(rounded), "rounded halter")
    except InvalidInputError:
        return
    assert g.sleeve == "sleeveless"


# 049920-like: long sleeves of three flounces, the first rising to the shoulder line and
# flaring out past it, each tier wider than the one above, merged with the body down to
# the hem and hanging below it. Garment units with the hem at y = 1 (rows 40..420).
TIERED = [(0, 0.02), (0.13, 0.0), (0.3, 0.07), (0.46, 0.26), (0.4, 0.31), (0.49, 0.55),
          (0.46, 0.58), (0.54, 0.8), (0.5, 0.83), (0.53, 1.08), (0.34, 1.1), (0.3, 1.0),
          (0, 1.0)]  # fmt: skip
TIER_TOP, TIER_HEM = 40, 420


def _tiered(right) -> np.ndarray:
    return mirrored_mask(right, shape=(H, W), top=TIER_TOP, bottom=TIER_HEM)


def test_tiered_flounce_sleeves_are_read_by_the_shoulder_seams():
    """The flounces' tips are the top edge's outermost corners, but nothing lies beyond
    them: the shoulder seams are the corners nearer the neck, where the shoulder line
    turns down the first flounce, and the body's sides run down from them."""
    g = garment_geometry(_tiered(TIERED), "tiered")
    scale = TIER_HEM - TIER_TOP
    assert g.sleeve == "long"
    for p, side in ((g.shoulder_left, -1), (g.shoulder_right, 1)):
        assert p[0] == pytest.approx(W / 2 + side * 0.3 * scale, abs=8)
        assert p[1] == pytest.approx(TIER_TOP + 0.07 * scale, abs=8)
    for ap, side in ((g.armpit_left, -1), (g.armpit_right, 1)):
        assert g.shoulder_y + 0.1 * scale < ap[1] < TIER_TOP + 0.45 * scale
        assert ap[0] == pytest.approx(W / 2 + side * 0.3 * scale, abs=8)
    assert g.hem_y == pytest.approx(TIER_HEM, abs=10)  # the body's hem, not the cuffs'
    torso, left, right = torso_and_sleeve_masks(_tiered(TIERED), g)
    for side, part in ((-1, left), (1, right)):  # each tier belongs to its sleeve
        for u, v in ((0.4, 0.25), (0.45, 0.5), (0.5, 0.78), (0.42, 1.05)):
            x, y = round(W / 2 + side * u * scale), round(TIER_TOP + v * scale)
            assert part[y, x] == 255 and torso[y, x] == 0, (side, u, v)
    assert torso[round(TIER_TOP + 0.6 * scale), W // 2] == 255


def test_tiers_without_a_shoulder_corner_stay_refused():
    """The same flounces on a top edge running straight from the neck to the first tip (a
    raglan, or a shapeless blob): no corner tells where the body's sides are."""
    raglan = [p for p in TIERED if p != (0.3, 0.07)]
    with pytest.raises(InvalidInputError, match="garment silhouette not understood"):
        garment_geometry(_tiered(raglan), "raglan tiers")


def test_torso_side_below_the_armpit_stays_with_the_torso():
    # A fitted tee's side narrows from the armpit to the waist: the side line fitted to it
    # runs inside the garment just under the armpit, and what lay beyond it there went
    # with the sleeve, whose warp folds it round the body's armpit.
    mask = _canvas(FITTED_TEE)
    g = garment_geometry(mask, "fitted tee")
    torso, left, right = torso_and_sleeve_masks(mask, g)
    for side, part in ((1, right), (-1, left)):
        x, y = (round(v) for v in _u(side * 0.265, 0.31))
        assert mask[y, x] == 255
        assert torso[y, x] == 255 and part[y, x] == 0, side
        # the sleeve itself, below the armpit's row too, is still the sleeve
        x, y = (round(v) for v in _u(side * 0.4, 0.31))
        assert part[y, x] == 255 and torso[y, x] == 0, side

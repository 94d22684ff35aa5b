"""Removal of the old upper garment (`vton.render.removal`) on synthetic persons.

Each test draws a `vton.person.synthetic` figure whose background, skin and lower clothes
are known, removes the shirt, and compares the fill to what was there (or to what a blur
would give): stripes behind a loose shirt continue, skin takes the person's own colours
and grain, no pixel of the shirt's colour stays, nothing outside the grown region
changes, and a print on the trousers continues upwards.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import ciede2000, rgb_to_lab
from vton.geometry.capsules import capsule_mask
from vton.person.labels import LIP
from vton.person.synthetic import synthetic_person
from vton.render.body import arm_segments, body_frame
from vton.render.removal import (
    SEAM_BAND,
    SPECK_AREA,
    _shade_refs,
    _shaded_skin,
    _specks_in_skin,
    bare_body,
    removal_region,
    remove_old_clothes,
    skin_layer,
    waistband_level,
)
from vton.render.shading import push_pull_fill

SHIRT = (40, 90, 160)
SKIN = (214, 160, 128)
ORIGIN = np.zeros(2)
#: `synthetic_person`'s default skin and trousers.
SKIN_OF_PERSON, PANTS_OF_PERSON = (224, 172, 140), (50, 50, 60)


def _person(**kw):
    p = synthetic_person(512, 384, **kw)
    return p.image.copy(), p.labels.copy(), p.keypoints


def _remove(img, lab, kp, hem: float = 1.0):
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    seam = -0.06 * body.sw
    out = remove_old_clothes(img, lab, old, body, seam, hem * body.torso_len, ORIGIN)
    return out, body, old, seam


def _untouched(region: np.ndarray, lab: np.ndarray, body) -> np.ndarray:
    """What removal leaves exactly as photographed: everything outside the grown region
    and the band of visible skin along it that fades into the skin filled there."""
    reach = 2 * int(np.ceil(SEAM_BAND * body.sw)) + 1
    seam = cv2.dilate(region.astype(np.uint8), np.ones((reach, reach), np.uint8)).astype(bool)
    seam &= np.isin(lab, (LIP["neck"], LIP["left-arm"], LIP["right-arm"]))
    return ~region & ~seam


def _stripes(shape, period: int, a, b, axis: int) -> np.ndarray:
    h, w = shape
    idx = np.arange(h if axis == 0 else w) // (period // 2) % 2
    band = np.where(idx[:, None] == 0, np.array(a), np.array(b)).astype(np.uint8)
    if axis == 0:
        return np.broadcast_to(band[:, None, :], (h, w, 3)).copy()
    return np.broadcast_to(band[None, :, :], (h, w, 3)).copy()


def _flap(kp, shape) -> np.ndarray:
    """(H, W) bool: a loose part of the shirt standing out into the background beside the
    waist (the viewer's left), where the body is not."""
    rs, rh = kp[2, :2], kp[8, :2]
    x1 = rh[0] - 0.02 * (kp[5, 0] - kp[2, 0])
    x0 = x1 - 0.42 * (kp[5, 0] - kp[2, 0])
    y0, y1 = rs[1] + 0.55 * (rh[1] - rs[1]), rh[1]
    out = np.zeros(shape, bool)
    out[round(y0) : round(y1), round(x0) : round(x1)] = True
    return out


@pytest.mark.parametrize("axis", [0, 1])
def test_striped_background_continues_behind_a_loose_shirt(axis):
    img, lab, kp = _person(arm_angle=45.0)
    truth = _stripes(lab.shape, 14, (200, 40, 50), (240, 240, 240), axis)
    img[lab == 0] = truth[lab == 0]
    flap = _flap(kp, lab.shape) & (lab == 0)
    img[flap], lab[flap] = SHIRT, LIP["upper-clothes"]
    out, body, old, seam = _remove(img, lab, kp)
    zone = flap & ~bare_body(body, seam, lab.shape, ORIGIN)
    assert zone.sum() > 500
    err = np.abs(out[zone] - truth[zone].astype(np.float32)).mean()
    # What a blur from the background would give (the fill this replaces).
    known = ((lab == 0) & ~cv2.dilate(old.astype(np.uint8), np.ones((5, 5), np.uint8))).astype(
        np.float32
    )
    blur = push_pull_fill(img.astype(np.float32), known)
    blur_err = np.abs(blur[zone] - truth[zone].astype(np.float32)).mean()
    assert blur_err > 40
    assert err < 0.35 * blur_err, (err, blur_err)


def test_skin_takes_the_persons_colours_and_grain():
    rng = np.random.default_rng(0)
    img, lab, kp = _person(sleeves="short", skin=SKIN, arm_angle=30.0)
    bare_arms = np.isin(lab, (LIP["left-arm"], LIP["right-arm"]))
    hand_colour = (176, 118, 88)  # tanned arms, lighter face
    img[bare_arms] = hand_colour
    noisy = img.astype(np.float32) + rng.normal(0, 3.0, img.shape).astype(np.float32)
    img = np.clip(noisy, 0, 255).astype(np.uint8)
    out, body, old, seam = _remove(img, lab, kp)
    bare = bare_body(body, seam, lab.shape, ORIGIN)
    inner = cv2.erode((old & bare).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    # The chest: the face's colour (a little darker), not the shirt's.
    chest = inner.copy()
    chest[: round(kp[2, 1] + 0.3 * body.sw)] = False
    chest[round(body.shoulder_mid[1] + 0.8 * body.torso_len) :] = False
    face_lab = rgb_to_lab(np.array(SKIN, np.float32))
    de = ciede2000(rgb_to_lab(np.median(out[chest], axis=0)), face_lab)
    assert de < 8.0, de
    # The upper arms (under the old short sleeves): the visible forearms' colour.
    fore = np.zeros(lab.shape, np.uint8)
    for s, e in ((2, 3), (5, 6)):
        a, b = kp[s, :2], kp[e, :2]
        p, q = a + 0.45 * (b - a), a + 0.75 * (b - a)
        cv2.line(fore, tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int)), 1, 3)
    fore = fore.astype(bool) & old
    assert fore.sum() > 50
    de_arm = ciede2000(rgb_to_lab(np.median(out[fore], axis=0)), rgb_to_lab(hand_colour))
    de_face = ciede2000(rgb_to_lab(np.median(out[fore], axis=0)), face_lab)
    assert de_arm < 6.0 and de_arm < de_face, (de_arm, de_face)
    # Grain: the photo's noise, not a flat slab.
    g = out.mean(axis=2)
    hp = g - cv2.GaussianBlur(g, (0, 0), 1.5)
    assert 0.8 < float(np.std(hp[chest])) < 6.0


def test_no_pixel_of_the_old_shirt_stays():
    img, lab, kp = _person(sleeves="short", arm_angle=30.0)
    shirt = lab == LIP["upper-clothes"]
    # A parser's mistakes: the sleeve's outer edge called arm, the hem called trousers,
    # a button called background; and an anti-aliased fringe into the background.
    edge = shirt & ~cv2.erode(shirt.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    sleeve_edge = edge & (np.arange(lab.shape[1])[None, :] < kp[2, 0] - 5)
    lab[sleeve_edge] = LIP["right-arm"]
    hem = shirt & (np.arange(lab.shape[0])[:, None] > kp[8, 1] - 6)
    lab[hem] = LIP["pants"]
    cx, cy = round(kp[1, 0]), round(kp[1, 1] + 60)
    cv2.circle(lab, (cx, cy), 4, 0, -1)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    out = _remove(img, lab, kp, hem=0.8)[0]
    res = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    de = ciede2000(rgb_to_lab(res), rgb_to_lab(np.array(SHIRT, np.float32)))
    assert np.count_nonzero(de < 12) == 0, np.argwhere(de < 12)[:10]


def test_nothing_outside_the_grown_region_changes():
    img, lab, kp = _person(arm_angle=30.0)
    rng = np.random.default_rng(1)
    img = np.clip(img.astype(np.int16) + rng.integers(-4, 5, img.shape), 0, 255).astype(np.uint8)
    out, body, old, _ = _remove(img, lab, kp)
    region = removal_region(img, lab, old, body, ORIGIN)
    assert region.sum() < 1.25 * old.sum()
    keep = _untouched(region, lab, body)
    assert np.array_equal(out[keep], img[keep].astype(np.float32))
    head = np.isin(lab, (LIP["hair"], LIP["face"]))
    assert not (region & head).any()
    assert np.array_equal(out[head], img[head].astype(np.float32))
    # The lower clothes are left alone where the shirt was not.
    pants = lab == LIP["pants"]
    far = pants & ~cv2.dilate(old.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.array_equal(out[far], img[far].astype(np.float32))


def test_lower_garment_print_continues_up_under_a_shorter_top():
    img, lab, kp = _person(arm_angle=30.0)
    pants = lab == LIP["pants"]
    truth = _stripes(lab.shape, 10, (30, 30, 40), (200, 180, 60), 1)
    img[pants] = truth[pants]
    out, body, old, seam = _remove(img, lab, kp, hem=0.7)
    level = np.stack(np.mgrid[0 : lab.shape[0], 0 : lab.shape[1]][::-1], -1) - body.shoulder_mid
    level = level @ body.axis
    # Under the old shirt, below its waistband (the trousers show from 1.04 torso lengths:
    # hidden up to 0.12 above that), above the trousers and within their width.
    cols = pants[round(kp[8, 1]) + 8].nonzero()[0]
    zone = old & bare_body(body, seam, lab.shape, ORIGIN) & (level > 0.92 * body.torso_len + 3)
    zone[:, : cols.min() + 3] = False
    zone[:, cols.max() - 2 :] = False
    assert zone.sum() > 300
    err = np.abs(out[zone] - truth[zone].astype(np.float32)).mean()
    blur = push_pull_fill(img.astype(np.float32), pants.astype(np.float32))
    blur_err = np.abs(blur[zone] - truth[zone].astype(np.float32)).mean()
    assert blur_err > 40
    assert err < 0.3 * blur_err, (err, blur_err)


def test_old_long_sleeves_below_a_shorter_hem_become_arms_not_trousers():
    img, lab, kp = _person(arm_angle=10.0, sleeves="long")
    out, body, old, _ = _remove(img, lab, kp, hem=0.5)
    level = np.stack(np.mgrid[0 : lab.shape[0], 0 : lab.shape[1]][::-1], -1) - body.shoulder_mid
    level = level @ body.axis
    # the old sleeve along the forearms, below the new hem
    wrist = kp[4, :2]
    elbow = kp[3, :2]
    forearm = np.zeros(lab.shape, np.uint8)
    cv2.line(forearm, tuple(np.round(elbow).astype(int)), tuple(np.round(wrist).astype(int)), 1, 5)
    zone = forearm.astype(bool) & old & (level > 0.5 * body.torso_len + 5)
    assert zone.sum() > 50
    skin = np.array(SKIN_OF_PERSON, np.float32)
    pants = np.array(PANTS_OF_PERSON, np.float32)
    d_skin = np.abs(out[zone] - skin).max(-1)
    d_pants = np.abs(out[zone] - pants).max(-1)
    assert np.mean(d_skin < d_pants) > 0.9


def test_no_old_clothes_leaves_the_crop_as_it_is():
    img, lab, kp = _person()
    lab[lab == LIP["upper-clothes"]] = LIP["coat"] + 100  # no old clothes label
    body = body_frame(kp)
    old = np.zeros(lab.shape, bool)
    out = remove_old_clothes(img, lab, old, body, 0.0, body.torso_len, ORIGIN)
    assert out.dtype == np.float32
    assert np.array_equal(out, img.astype(np.float32))


def test_skin_the_parser_called_clothes_stays_as_photographed():
    rng = np.random.default_rng(2)
    img, lab, kp = _person(sleeves="short", skin=SKIN, arm_angle=30.0)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    # The upper half of the visible forearms labelled as the shirt.
    arms = np.isin(lab, (LIP["left-arm"], LIP["right-arm"]))
    fore = arms & (np.arange(lab.shape[0])[:, None] < (kp[3, 1] + kp[4, 1]) / 2)
    fore = cv2.erode(fore.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    shirt = (lab == LIP["upper-clothes"]).astype(np.uint8)
    lab[fore] = LIP["upper-clothes"]
    out = _remove(img, lab, kp)[0]
    # Away from the real sleeve (whose fringe goes with it), the forearm is the photo's.
    far = fore & ~cv2.dilate(shirt, np.ones((17, 17), np.uint8)).astype(bool)
    assert far.sum() > 100
    kept = np.mean(np.all(out[far] == img[far].astype(np.float32), axis=1))
    assert kept > 0.9, kept


def test_a_shaded_neck_the_parser_called_clothes_stays_as_photographed():
    """The chin's shadow darkens the neck far below the lit face's colour, and a parser
    calls the lower part of it the shirt: it is the person's neck, kept as photographed
    (filled with the lit chest's colour it showed as pale streaks across a dark neck)."""
    rng = np.random.default_rng(3)
    img, lab, kp = _person(sleeves="short", skin=SKIN, arm_angle=30.0)
    neck = lab == LIP["neck"]
    img[neck] = (np.float32(SKIN) * 0.45).astype(np.uint8)
    img = np.clip(img.astype(np.int16) + rng.integers(-3, 4, img.shape), 0, 255).astype(np.uint8)
    rows = np.flatnonzero(neck.any(1))
    low = neck & (np.arange(lab.shape[0])[:, None] > rows[0] + 0.55 * (rows[-1] - rows[0]))
    shirt = (lab == LIP["upper-clothes"]).astype(np.uint8)
    lab[low] = LIP["upper-clothes"]
    out = _remove(img, lab, kp)[0]
    far = low & ~cv2.dilate(shirt, np.ones((9, 9), np.uint8)).astype(bool)
    assert far.sum() > 60, far.sum()
    kept = np.mean(np.all(out[far] == img[far].astype(np.float32), axis=1))
    assert kept > 0.9, kept


def test_flecks_of_a_neck_in_shade_ringed_by_neck_and_hair_are_not_removed():
    """A parser scatters flecks of "shirt" over a neck in the chin's shadow, where long
    hair falls beside it (darker and greyer than any skin test takes, and not holes in
    the skin label that closing it would fill): apart from the shirt and ringed by neck
    and hair, they are the neck, left as photographed (filled, each became a pale fleck
    of the chest's colour). The shirt's collar, joined to it, and a fleck out in the
    background are still removed."""
    _, lab, kp = _person(sleeves="short")
    body = body_frame(kp)
    cx, cy = (round(v) for v in body.shoulder_mid)
    sw = body.sw
    neck = lab == LIP["neck"]
    # hair down the neck's viewer-left side
    hair_band = np.zeros(lab.shape, bool)
    rows = np.flatnonzero(neck.any(1))
    for y in rows:
        x0 = np.flatnonzero(neck[y])[0]
        hair_band[y, max(0, x0 - 6) : x0 + 3] = True
    lab[hair_band] = LIP["hair"]
    region = lab == LIP["upper-clothes"]
    y_f = int(rows[len(rows) // 2])
    x_f = int(np.flatnonzero(neck[y_f])[0])
    fleck = capsule_mask(lab.shape, [(np.float32((x_f, y_f)), np.float32((x_f, y_f + 2)), 2.0)])
    stray = capsule_mask(lab.shape, [(np.float32((cx - 0.3 * sw, cy - 0.45 * sw)),) * 2 + (2.5,)])
    assert not (lab[stray] > 0).any(), "the stray fleck must lie in the background"
    assert fleck.sum() < SPECK_AREA * sw * sw
    region |= fleck | stray
    got = _specks_in_skin(region, lab, body, ORIGIN)
    assert got[fleck].all()
    assert not got[stray].any()
    assert not (got & (lab == LIP["upper-clothes"])).any()


def test_the_old_collars_contact_shadow_on_the_neck_fades_into_the_fill():
    """An open collar lies on the neck and shades a thin line of it along its edge: with
    the collar gone that line is not a ragged dark outline round where it was, but fades
    into the skin filled in its place. Farther up the neck stays as photographed."""
    img, lab, kp = _person(sleeves="short", skin=SKIN, arm_angle=30.0)
    shirt = (lab == LIP["upper-clothes"]).astype(np.uint8)
    neck = lab == LIP["neck"]
    # (beyond the pixel of fringe the removal takes with the shirt; about a fiftieth of
    # a shoulder width wide)
    near = cv2.dilate(shirt, np.ones((3, 3), np.uint8)).astype(bool)
    line = neck & cv2.dilate(shirt, np.ones((7, 7), np.uint8)).astype(bool) & ~near
    assert line.sum() > 20
    img[line] = (img[line] * 0.8).astype(np.uint8)
    out = _remove(img, lab, kp)[0]
    lum = out @ np.float32([0.299, 0.587, 0.114])
    far = neck & ~cv2.dilate(shirt, np.ones((21, 21), np.uint8)).astype(bool)
    assert far.sum() > 20
    ratio = np.median(lum[line]) / np.median(lum[far])
    assert ratio > 0.9, ratio  # 0.8 as photographed
    assert np.array_equal(out[far], img[far].astype(np.float32))


def _slim_arms(img, lab, kp, bg, factor: float):
    """The synthetic person's visible forearms and hands redrawn `factor` as thick (a
    slimmer build than the keypoint estimate), background where they were."""
    arms = np.isin(lab, (LIP["left-arm"], LIP["right-arm"]))
    img[arms], lab[arms] = bg, 0
    body = body_frame(kp)
    for side, (_, elbow, wrist) in body.arms.items():
        label = LIP["right-arm"] if side < 0 else LIP["left-arm"]
        seg = [(elbow, wrist, factor * 0.096 * body.sw)]
        m = capsule_mask(lab.shape, seg) & (lab == 0)
        img[m], lab[m] = SKIN_OF_PERSON, label
    return body


def test_upper_arms_where_loose_sleeves_were_are_as_slim_as_the_arms_below_them():
    """A slim person in a tee with loose sleeves, under a sleeveless top: the upper arms
    filled where the sleeves were are as wide as the forearms they join (in an arm's
    proportions), the rest of the sleeves background, not skin slabs as wide as the
    sleeves."""
    img, lab, kp = _person(sleeves="short", arm_angle=30.0)
    bg = img[2, 2].copy()
    body = _slim_arms(img, lab, kp, bg, 0.6)
    # loose sleeves: twice the upper arm's thickness
    for _, (joint, elbow, _) in body.arms.items():
        m = capsule_mask(lab.shape, [(joint, elbow, 0.2 * body.sw)]) & (lab == 0)
        img[m], lab[m] = SHIRT, LIP["upper-clothes"]
    out, body, _, _ = _remove(img, lab, kp, hem=1.0)
    d_bg = np.abs(out - np.float32(bg)).max(-1)
    checked = 0
    for _, (joint, elbow, _) in body.arms.items():
        # across the middle of the upper arm: skin only within about the slim arm's
        # radius scaled to an upper arm (0.6 x 0.12 sw ~ 0.07 sw), background beyond
        mid = (joint + elbow) / 2
        d = elbow - joint
        n = np.array([-d[1], d[0]]) / np.hypot(*d)
        for sgn in (-1, 1):
            outer = mid + sgn * n * 0.12 * body.sw
            inner = mid + sgn * n * 0.03 * body.sw
            y, x = np.round(outer[::-1]).astype(int)
            if lab[y, x] != LIP["upper-clothes"]:
                continue  # inside the torso, not the sleeve's loose part
            assert d_bg[y, x] < 20, (outer, out[y, x])
            y, x = np.round(inner[::-1]).astype(int)
            assert d_bg[y, x] > 40, (inner, out[y, x])
            checked += 1
    assert checked >= 2


def test_full_size_photo():
    # 1024x768: the fills' sampling handles regions of well over 32767 pixels.
    p = synthetic_person(1024, 768, sleeves="long", arm_angle=30.0)
    body = body_frame(p.keypoints)
    old = p.labels == LIP["upper-clothes"]
    assert old.sum() > 60000
    out = remove_old_clothes(
        p.image, p.labels, old, body, -0.06 * body.sw, 0.8 * body.torso_len, ORIGIN
    )
    assert out.shape == p.image.shape and out.dtype == np.float32
    de = ciede2000(rgb_to_lab(np.clip(out + 0.5, 0, 255)), rgb_to_lab(np.array(SHIRT)))
    assert np.count_nonzero(de < 12) == 0
    region = removal_region(p.image, p.labels, old, body, ORIGIN)
    keep = _untouched(region, p.labels, body)
    assert np.array_equal(out[keep], p.image[keep].astype(np.float32))


def test_a_sleeve_the_parser_called_trousers_goes_too():
    black, gold = (22, 22, 24), (200, 160, 60)
    img, lab, kp = _person(sleeves="long", shirt=black, skin=SKIN, arm_angle=30.0)
    pants = lab == LIP["pants"]
    # Gold trousers printed with the shirt's black (a leopard print's spots).
    xs = np.arange(lab.shape[1])[None, :].repeat(lab.shape[0], 0)
    print_ = np.where(((xs // 5) % 3 == 0)[..., None], np.array(black), np.array(gold))
    img[pants] = print_[pants]
    # The forearms' sleeves labelled as trousers.
    sleeve = np.zeros(lab.shape, bool)
    for e, w in ((3, 4), (6, 7)):
        cap = np.zeros(lab.shape, np.uint8)
        a, b = tuple(np.round(kp[e, :2]).astype(int)), tuple(np.round(kp[w, :2]).astype(int))
        cv2.line(cap, a, b, 1, 20)
        sleeve |= cap.astype(bool) & (lab == LIP["upper-clothes"])
    sleeve &= np.arange(lab.shape[0])[:, None] > kp[3, 1] + 10  # below the elbows
    assert sleeve.sum() > 200
    lab[sleeve] = LIP["pants"]
    out = _remove(img, lab, kp)[0]
    res = np.clip(out[sleeve] + 0.5, 0, 255)
    de = ciede2000(rgb_to_lab(res), rgb_to_lab(np.array(SKIN)))
    assert np.mean(de < 12) > 0.9, np.mean(de < 12)
    # The trousers themselves, away from the arms and the shirt, are as photographed.
    body_old = cv2.dilate(
        ((lab == LIP["upper-clothes"]) | sleeve).astype(np.uint8), np.ones((61, 61), np.uint8)
    ).astype(bool)
    far = pants & ~body_old
    assert far.sum() > 1000
    assert np.array_equal(out[far], img[far].astype(np.float32))


def test_removal_is_reproducible_and_skin_sampled_only_where_needed_matches_the_full_layer():
    rng = np.random.default_rng(3)
    img, lab, kp = _person(sleeves="short", skin=SKIN, arm_angle=30.0)
    img = np.clip(img.astype(np.int16) + rng.integers(-4, 5, img.shape), 0, 255).astype(np.uint8)
    out, body, old, seam = _remove(img, lab, kp)
    again = _remove(img.copy(), lab.copy(), kp)[0]
    assert np.array_equal(out, again)
    # The skin computed at the pixels asked for (a box of the reduced layer, sampled) is
    # the full layer's there: same alignment, same grain.
    region = removal_region(img, lab, old, body, ORIGIN)
    bare = bare_body(body, seam, lab.shape, ORIGIN)
    crop_f = img.astype(np.float32)
    full = skin_layer(crop_f, lab, region, bare, body, ORIGIN, 0.5)
    where = region & bare
    assert where.sum() > 2000
    part = skin_layer(crop_f, lab, region, bare, body, ORIGIN, 0.5, where=where)
    assert part.shape == (where.sum(), 3)
    assert np.abs(part - full[where]).max() < 1.0
    # A shifted sampling would not match: the layer has a gradient to tell them apart.
    assert np.abs(full[:, 1:][where[:, :-1]] - part).max() > 1.0


def test_a_long_old_tops_hem_below_the_hips_becomes_the_trousers_under_a_short_top():
    """A tunic over trousers, hemmed a fifth of a torso length below the hips, replaced
    by a top ending at the waist: where the tunic hung over the legs are the trousers (the
    body goes on below the hips), not a band of background across them."""
    img, lab, kp = _person(sleeves="short", arm_angle=30.0)
    body = body_frame(kp)
    level = body.levels(lab.shape, ORIGIN)
    tunic = (lab == LIP["pants"]) & (level < 1.2 * body.torso_len)
    band = tunic & (level > 1.1 * body.torso_len)
    assert band.sum() > 300
    lab[tunic] = LIP["upper-clothes"]
    img[tunic] = img[lab == LIP["upper-clothes"]][0]
    out = _remove(img, lab, kp, hem=0.6)[0]
    got = np.median(out[band], axis=0)
    assert np.abs(got - np.float32(PANTS_OF_PERSON)).max() < 25, got


def test_a_long_sleeve_the_parser_called_the_skirt_below_the_elbow_is_removed():
    """A sequinned dress: the parser calls its sleeves below the elbow skirt (they hang
    beside the skirt, in its sparkle), and their colours are not the bodice's median. The
    old upper arm covered down to the elbow says it is a long sleeve: gone, forearm skin
    or background in its place, not patches of sequins on the arms."""
    img, lab, kp = _person(sleeves="long", arm_angle=30.0)
    body = body_frame(kp)
    silver = (190, 192, 204)
    sleeve_low = np.zeros(lab.shape, bool)
    for _, elbow, wrist in body.arms.values():
        seg = [(elbow + 0.1 * (wrist - elbow), wrist, 0.2 * body.sw)]
        sleeve_low |= capsule_mask(lab.shape, seg) & (lab == LIP["upper-clothes"])
    assert sleeve_low.sum() > 300
    lab[sleeve_low], img[sleeve_low] = LIP["skirt"], silver
    out = _remove(img, lab, kp, hem=0.6)[0]
    d = np.abs(out[sleeve_low] - np.float32(silver)).max(axis=1)
    assert (d > 40).mean() > 0.97, (d > 40).mean()


def test_plain_trousers_continue_up_to_a_short_tops_hem_without_stripes():
    """Plain dark trousers uncovered by a top ending at the waist: their fill is the
    trousers' colour, smooth, not the mirror of the thighs with the gap between the legs
    (background) striping the waist."""
    img, lab, kp = _person(sleeves="short", arm_angle=30.0)
    # A blocky parse calls the gap between the thighs trousers too.
    rows = np.flatnonzero((lab == LIP["pants"]).any(1))
    sw = body_frame(kp).sw
    for y in range(rows[0] + round(0.35 * sw), rows[-1]):
        xs = np.flatnonzero(lab[y] == LIP["pants"])
        lab[y, xs[0] : xs[-1] + 1] = np.where(
            lab[y, xs[0] : xs[-1] + 1] == 0, LIP["pants"], lab[y, xs[0] : xs[-1] + 1]
        )
    out, body, old, seam = _remove(img, lab, kp, hem=0.4)
    level = body.levels(lab.shape, ORIGIN)
    bare = bare_body(body, seam, lab.shape, ORIGIN)
    arms = capsule_mask(lab.shape, arm_segments(body, 1.3))  # skin, in front
    zone = old & bare & ~arms & (level > 0.93 * body.torso_len)  # below the waistband
    zone = cv2.erode(zone.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    assert zone.sum() > 300
    px = out[zone]
    far = np.abs(px - np.float32(PANTS_OF_PERSON)).max(axis=1)
    assert np.percentile(far, 99) < 20, np.percentile(far, [50, 95, 99])


def _blocky(lab: np.ndarray, block: int) -> np.ndarray:
    """The labels as a parser at 1/`block` of the resolution gives them: in steps."""
    h, w = lab.shape
    small = cv2.resize(lab, (w // block, h // block), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def test_filled_arms_outline_is_smooth_where_the_parse_steps():
    """An old long sleeve labelled at a quarter of the resolution: the bare arm drawn in
    its place has a smooth, antialiased outline against the background, not the parse's
    staircase."""
    bg = (90, 190, 90)
    img, lab, kp = _person(sleeves="long", arm_angle=30.0, background=bg)
    lab = _blocky(lab, 4)  # a shoulder width is about 30 blocks
    out = _remove(img, lab, kp)[0]
    skin = np.array(SKIN_OF_PERSON, np.float32)
    d_skin = np.abs(out - skin).sum(-1)
    d_bg = np.abs(out - np.array(bg, np.float32)).sum(-1)
    skin_side = d_skin < d_bg
    # The outer edge of the viewer's left upper arm, row by row.
    sh, el = kp[2, :2], kp[3, :2]
    y0, y1 = round(sh[1] + 0.3 * (el[1] - sh[1])), round(el[1] - 0.1 * (el[1] - sh[1]))
    xs = []
    for y in range(y0, y1):
        cols = np.flatnonzero(skin_side[y, : round(sh[0])])
        xs.append(cols[0] if cols.size else -1)
    xs = np.array(xs)
    assert (xs > 0).all() and y1 - y0 > 30
    # A 30-degree edge moves about 0.6 px per row; the parse's steps jump 4.
    assert np.abs(np.diff(xs)).max() <= 2, np.diff(xs)
    # Antialiased: on most rows a pixel at the edge blends skin and background.
    frac = d_skin / np.maximum(d_skin + d_bg, 1e-6)  # 0: skin, 1: background
    edge = [frac[y, x - 1 : x + 1] for y, x in zip(range(y0, y1), xs, strict=True)]
    blend = [((f > 0.1) & (f < 0.9)).any() for f in edge]
    assert np.mean(blend) > 0.5


def test_bare_arms_where_long_sleeves_were_are_shaded_round():
    """An arm is lit most along its middle and turns darker to its outline, as a
    cylinder does; a flat fill reads as a painted slab."""
    bg = np.array((90, 190, 90), np.float32)
    img, lab, kp = _person(sleeves="long", arm_angle=30.0, background=tuple(bg.astype(int)))
    out = _remove(img, lab, kp)[0]
    lum = out @ np.float32([0.299, 0.587, 0.114])
    is_bg = np.abs(out - bg).sum(-1) < 40
    ratios = []
    for s, e in ((2, 3), (5, 6)):
        a, b = kp[s, :2], kp[e, :2]
        along = (b - a) / np.linalg.norm(b - a)
        out_dir = np.array([-along[1], along[0]])
        if out_dir[0] * (a[0] - kp[1, 0]) < 0:  # the arm's outer side, away from the body
            out_dir = -out_dir
        for t in np.linspace(0.45, 0.85, 9):
            c = a + t * (b - a)
            steps = [
                k for k in range(40) if is_bg[tuple(np.round(c + k * out_dir)[::-1].astype(int))]
            ]
            assert steps, "no background beside the arm"
            rim = c + (steps[0] - 2) * out_dir  # two pixels inside the outline
            ratios.append(
                lum[tuple(np.round(rim)[::-1].astype(int))]
                / lum[tuple(np.round(c)[::-1].astype(int))]
            )
    assert np.median(ratios) < 0.86, ratios


def test_a_crop_tops_lower_part_above_the_bare_midriff_becomes_skin_not_trousers():
    """The old top ended above the navel and the midriff showed under it: the part of it
    below a still shorter new top's hem was skin, not the trousers' waist continued up."""
    img, lab, kp = _person(sleeves="short", arm_angle=30.0)
    body = body_frame(kp)
    level = np.stack(np.mgrid[0 : lab.shape[0], 0 : lab.shape[1]][::-1], -1) - body.shoulder_mid
    level = level @ body.axis
    shirt = lab == LIP["upper-clothes"]
    midriff = shirt & (level > 0.75 * body.torso_len)
    img[midriff], lab[midriff] = SKIN_OF_PERSON, LIP["neck"]
    old = lab == LIP["upper-clothes"]
    out = _remove(img, lab, kp, hem=0.45)[0]
    core = np.abs(np.arange(lab.shape[1])[None, :] - body.shoulder_mid[0]) < 0.25 * body.sw
    zone = old & core & (level > 0.5 * body.torso_len) & (level < 0.7 * body.torso_len)
    assert zone.sum() > 200
    d_skin = np.abs(out[zone] - np.array(SKIN_OF_PERSON, np.float32)).max(-1)
    d_pants = np.abs(out[zone] - np.array(PANTS_OF_PERSON, np.float32)).max(-1)
    assert np.mean(d_skin < d_pants) > 0.95
    # Where the old top did reach the trousers (no midriff under it), it stays their waist.
    img2, lab2, _ = _person(sleeves="short", arm_angle=30.0)
    out2 = _remove(img2, lab2, kp, hem=0.45)[0]
    low = (lab2 == LIP["upper-clothes"]) & core & (level > 0.93 * body.torso_len)
    low &= level < body.torso_len
    assert low.sum() > 100
    d_skin2 = np.abs(out2[low] - np.array(SKIN_OF_PERSON, np.float32)).max(-1)
    d_pants2 = np.abs(out2[low] - np.array(PANTS_OF_PERSON, np.float32)).max(-1)
    assert np.mean(d_pants2 < d_skin2) > 0.9


def _outward_normal(along: np.ndarray, shoulder: np.ndarray, kp) -> np.ndarray:
    """The unit normal of an arm's direction `along` that points away from the body (the
    neck keypoint), for the arm at `shoulder`."""
    normal = np.array([-along[1], along[0]])
    return -normal if normal[0] * (shoulder[0] - kp[1, 0]) < 0 else normal


def _lit_sleeves(img, lab, kp, gain: float, period: int = 0):
    """The long sleeves lit from the arms' outer side: `gain` times brighter on the outer
    half of each arm than on the inner half; with `period` > 0 instead fine stripes of that
    period (px) across the sleeves, as folds or a print, brighter and darker by `gain`."""
    out = img.astype(np.float32)
    sleeve = lab == LIP["upper-clothes"]
    yy, xx = np.mgrid[: lab.shape[0], : lab.shape[1]].astype(np.float32)
    for s, e, w in ((2, 3, 4), (5, 6, 7)):
        a, b, c = kp[s, :2], kp[e, :2], kp[w, :2]
        near = capsule_mask(lab.shape, [(a, b, 30.0), (b, c, 30.0)], ORIGIN) & sleeve
        along = (c - a) / np.linalg.norm(c - a)
        normal = _outward_normal(along, a, kp)
        side = (xx - a[0]) * normal[0] + (yy - a[1]) * normal[1]
        if period:
            pos = (xx - a[0]) * along[0] + (yy - a[1]) * along[1]
            factor = np.where((pos // (period / 2)) % 2 == 0, gain, 1 / gain)
        else:
            factor = np.where(side > np.median(side[near]), np.sqrt(gain), 1 / np.sqrt(gain))
        out[near] *= factor[near][:, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def _outer_to_inner(out, kp, lab_arm) -> float:
    """The filled arms' outer half's median luminance over their inner half's (forearms,
    where the fill is the arm's alone)."""
    lum = out.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    yy, xx = np.mgrid[: out.shape[0], : out.shape[1]].astype(np.float32)
    ratios = []
    for s, e, w in ((2, 3, 4), (5, 6, 7)):
        a, b, c = kp[s, :2], kp[e, :2], kp[w, :2]
        fore = capsule_mask(out.shape[:2], [(b + 0.2 * (c - b), b + 0.8 * (c - b), 30.0)], ORIGIN)
        fore &= lab_arm
        normal = _outward_normal((c - b) / np.linalg.norm(c - b), a, kp)
        side = (xx - b[0]) * normal[0] + (yy - b[1]) * normal[1]
        mid = np.median(side[fore])
        ratios.append(np.median(lum[fore & (side > mid)]) / np.median(lum[fore & (side <= mid)]))
    return float(np.mean(ratios))


def test_bare_arms_where_long_sleeves_were_keep_the_sleeves_light():
    """A sleeve lit from one side shows how the arm under it is lit: the filled arm is
    brighter on that side than a fill under an evenly lit sleeve is; folds or a print across or
    along the arm are not carried over."""
    img, lab, kp = _person(sleeves="long", arm_angle=30.0)
    sleeve_arm = (lab == LIP["upper-clothes"]) & capsule_mask(
        lab.shape, [(kp[3, :2], kp[4, :2], 30.0), (kp[6, :2], kp[7, :2], 30.0)], ORIGIN
    )
    inside = cv2.erode(sleeve_arm.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    even = _outer_to_inner(_remove(img, lab, kp)[0], kp, inside)
    lit_img = _lit_sleeves(img, lab, kp, 1.6)
    lit = _outer_to_inner(_remove(lit_img, lab, kp)[0], kp, inside)
    assert lit > even * 1.06, (lit, even)
    striped = _remove(_lit_sleeves(img, lab, kp, 1.6, period=24), lab, kp)[0]
    plain = _remove(img, lab, kp)[0]
    lum = lambda x: x.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])  # noqa: E731
    # bands a few times the fine blur apart (a print, folds) differ by 2.5x in the sleeve;
    # on the arm, hardly at all
    d = np.abs(lum(striped) - lum(plain))[inside]
    assert np.median(d) < 3.0, np.median(d)


def test_under_a_crop_top_an_untucked_tops_place_is_the_midriff_down_to_the_waistband():
    """A tee worn over trousers to the hips, replaced by a crop top: below its hem is the
    midriff, and the trousers come up only as far as an untucked tee hides of them, not
    to the crop top's hem (jeans drawn up to the bust read as a jumpsuit)."""
    img, lab, kp = _person(sleeves="short", arm_angle=30.0)
    out, body, old, _ = _remove(img, lab, kp, hem=0.45)
    level = body.levels(lab.shape, ORIGIN)
    t = body.torso_len
    core = np.abs(np.arange(lab.shape[1])[None, :] - body.shoulder_mid[0]) < 0.25 * body.sw
    skin = np.array(SKIN_OF_PERSON, np.float32)
    pants = np.array(PANTS_OF_PERSON, np.float32)

    def skin_share(zone):
        assert zone.sum() > 200
        d_skin = np.abs(out[zone] - skin).max(-1)
        d_pants = np.abs(out[zone] - pants).max(-1)
        return np.mean(d_skin < d_pants)

    assert skin_share(old & core & (level > 0.5 * t) & (level < 0.85 * t)) > 0.95
    assert skin_share(old & core & (level > 0.95 * t) & (level < 1.02 * t)) < 0.05


@pytest.mark.parametrize(
    ("seen", "want"),
    [(1.04, 0.92), (0.85, 0.80), (0.65, 0.65), (None, 0.3)],
    ids=["untucked-to-hips", "capped", "high-waisted-seen", "no-lower-clothes"],
)
def test_waistband_level_from_the_lower_clothes_visible_top(seen, want):
    """The waistband is at most `WAIST_HIDDEN` above the trousers' visible top edge and
    not above `WAIST_LEVEL`, unless it shows higher; without lower clothes in the torso's
    columns, the caller's default."""
    _, lab, kp = _person()
    body = body_frame(kp)
    level = body.levels(lab.shape, ORIGIN)
    lower = np.zeros(lab.shape, bool)
    if seen is not None:
        lower = level >= seen * body.torso_len
    got = waistband_level(lower, level, body, ORIGIN, 0.3 * body.torso_len)
    assert got / body.torso_len == pytest.approx(want, abs=0.01)


@pytest.mark.parametrize("n_face", [0, 600], ids=["too-little-face", "face"])
def test_shaded_skin_answers_per_pixel_for_a_crop_or_a_list_of_pixels(n_face):
    """Its answer has the shape of the pixels asked about, also when there is too little
    face to judge by (a list of pixels got an (N, 3) answer, and its caller failed)."""
    photo = np.zeros((60, 60, 3), np.uint8)
    photo[:30], photo[30:] = SKIN, SHIRT
    face, old = np.zeros((60, 60), bool), np.zeros((60, 60), bool)
    face[: n_face // 60] = True
    old[30:] = True
    refs = _shade_refs(photo, face, old)
    assert (refs is None) == (n_face == 0)
    shade = (np.float32(SKIN) * 0.5).astype(np.uint8)
    pixels = np.stack([shade, np.uint8(SHIRT), np.uint8((120, 120, 120))])
    got = _shaded_skin(pixels, refs)
    assert got.shape == (3,)
    assert got.tolist() == ([True, False, False] if n_face else [False] * 3)
    crop = np.broadcast_to(pixels[:, None], (3, 4, 3))
    assert _shaded_skin(crop, refs).shape == (3, 4)


def test_bare_shoulders_are_round_where_a_boxy_old_top_squared_them():
    """A top with square, padded shoulders, removed where the new garment leaves the
    shoulders bare: the shoulder is the body's, sloping from the neck and rounding off
    over the arm, the top's square corner background, not a corner of skin."""
    img, lab, kp = _person(sleeves="short", arm_angle=10.0)
    bg = img[2, 2].copy()
    body = _slim_arms(img, lab, kp, bg, 0.6)  # (the arms' round ends not over the corner)
    sw = body.sw
    corners = np.zeros(lab.shape, np.uint8)
    for side in (-1, 1):
        x0 = body.shoulder_mid[0] + side * 0.3 * sw
        x1 = body.shoulder_mid[0] + side * 0.68 * sw
        y0 = body.shoulder_mid[1] - 0.2 * sw
        y1 = body.shoulder_mid[1] + 0.1 * sw
        pts = np.round([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]).astype(np.int32)
        cv2.fillConvexPoly(corners, pts, 1)
    pad = corners.astype(bool) & (lab == 0)
    img[pad], lab[pad] = SHIRT, LIP["upper-clothes"]
    # (the seams' level a garment fit puts on real persons, above the joints)
    seam = -0.145 * sw
    old = lab == LIP["upper-clothes"]
    out = remove_old_clothes(img, lab, old, body, seam, body.torso_len, ORIGIN)
    d_bg = np.abs(out - np.float32(bg)).max(-1)
    for side in (-1, 1):
        corner = body.shoulder_mid + np.array([side * 0.58 * sw, -0.12 * sw])
        on_top = body.shoulder_mid + np.array([side * 0.42 * sw, -0.04 * sw])
        y, x = np.round(corner[::-1]).astype(int)
        assert d_bg[y, x] < 20, ("corner", out[y, x])
        y, x = np.round(on_top[::-1]).astype(int)
        assert d_bg[y, x] > 40, ("shoulder", out[y, x])


def test_no_flecks_are_found_outside_a_crop_that_starts_below_the_neck():
    """A crop whose top lies below the shoulders' neck zone has no neck in it: nothing
    there is a fleck of one (the zone's rows, all above the crop, must not wrap round to
    its bottom)."""
    _, lab, kp = _person(sleeves="short")
    body = body_frame(kp)
    origin = np.array([0.0, body.shoulder_mid[1] + 0.5 * body.sw])
    crop_lab = lab[int(origin[1]) :]
    region = np.zeros(crop_lab.shape, bool)
    x = round(body.shoulder_mid[0])
    region[50:56, x - 3 : x + 3] = True  # a small blob ringed by skin, well inside the crop
    crop_lab = crop_lab.copy()
    crop_lab[40:66, x - 15 : x + 15] = LIP["neck"]
    assert not _specks_in_skin(region, crop_lab, body, origin).any()

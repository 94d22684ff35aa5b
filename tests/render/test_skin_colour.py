"""The colour of the skin that replaces an old top: the person's own torso skin."""

from __future__ import annotations

import cv2
import numpy as np

from tests.render.helpers import ciede2000, rgb_to_lab
from vton.geometry.capsules import capsule_mask
from vton.person.labels import LIP
from vton.person.synthetic import synthetic_person
from vton.render.body import arm_segments, body_frame
from vton.render.removal import bare_body, remove_old_clothes

NECK_SKIN = (200, 150, 120)
FACE = (238, 200, 182)  # a face lighter than the body (make-up, or light on it)
SEAM = -0.06  # shoulder widths: the seams a little above the shoulder line


def _removed(img, lab, old, body):
    """The whole photo with the old top removed, seams at `SEAM`, hem at the hips."""
    return remove_old_clothes(img, lab, old, body, SEAM * body.sw, body.torso_len, np.zeros(2))


def test_chest_takes_the_base_of_the_necks_colour_over_the_faces():
    p = synthetic_person(512, 384, sleeves="long", skin=NECK_SKIN, arm_angle=30.0)
    img, lab, kp = p.image.copy(), p.labels.copy(), p.keypoints
    img[lab == LIP["face"]] = FACE
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    seam = SEAM * body.sw
    assert (
        (lab == LIP["neck"]) & (np.arange(512)[:, None] > body.shoulder_mid[1] - 0.15 * body.sw)
    ).sum() > 400
    out = _removed(img, lab, old, body)
    bare = bare_body(body, seam, lab.shape, np.zeros(2))
    chest = cv2.erode((old & bare).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    chest[: round(kp[2, 1] + 0.3 * body.sw)] = False
    chest[round(body.shoulder_mid[1] + 0.8 * body.torso_len) :] = False
    got = rgb_to_lab(np.median(out[chest], axis=0))
    de_neck = ciede2000(got, rgb_to_lab(np.array(NECK_SKIN, np.float32)))
    de_face = ciede2000(got, rgb_to_lab(np.array(FACE, np.float32)))
    assert de_neck < 6.0 and de_neck < de_face, (de_neck, de_face)


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])


def test_an_arm_hanging_against_the_torso_meets_it_in_a_shaded_line():
    """Long sleeves removed from arms that hang close to the body: the arm is drawn in
    front of the torso, each rounded on its own outline, the torso in the arm's shade
    beside it. One distance-to-outline shading over their union made a flat slab from
    the armpit to the elbow."""
    p = synthetic_person(512, 384, sleeves="long", arm_angle=6.0)
    img, lab, kp = p.image, p.labels, p.keypoints
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    out = _removed(img, lab, old, body)
    joint, elbow, _ = body.arms[-1]
    y = round(0.5 * (joint[1] + elbow[1]))
    x_arm = round(0.5 * (joint[0] + elbow[0]))
    x_torso = round(x_arm + 0.45 * body.sw)
    row = _luma(out[y, x_arm : x_torso + 1])
    assert old[y, x_arm] and old[y, x_torso]
    dip = float(row.min())
    assert dip < row[0] - 8 and dip < row[-1] - 8, row.round()
    assert 3 < int(row.argmin()) < row.size - 4  # between the arm and the torso


def test_arms_in_long_sleeves_take_the_bodys_skin_not_the_hands():
    """Where long sleeves are removed, the only bare arm skin in sight is the hands, which
    are redder than the body: the arms are filled in the torso's colour down the arm (one
    pink arm beside a torso in the neck's colour read as someone else's arm)."""
    hand = (215, 140, 125)  # redder, yet within what the fill takes for skin
    p = synthetic_person(512, 384, sleeves="long", skin=NECK_SKIN, arm_angle=30.0)
    img, lab, kp = p.image.copy(), p.labels, p.keypoints
    arms = np.isin(lab, (LIP["left-arm"], LIP["right-arm"]))
    assert arms.sum() > 500  # the hands, below the sleeves
    img[arms] = hand
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    out = _removed(img, lab, old, body)
    joint, elbow, wrist = body.arms[1]
    segs = [(joint + 0.3 * (elbow - joint), elbow + 0.4 * (wrist - elbow), 0.06 * body.sw)]
    forearm = capsule_mask(lab.shape, segs) & old
    assert forearm.sum() > 300
    got = rgb_to_lab(np.median(out[forearm], axis=0))
    de_body = ciede2000(got, rgb_to_lab(np.array(NECK_SKIN, np.float32)))
    de_hand = ciede2000(got, rgb_to_lab(np.array(hand, np.float32)))
    assert de_body < de_hand and de_body < 10.0, (de_body, de_hand)


def test_arms_in_long_sleeves_turn_to_the_hands_colour_towards_the_wrist():
    """...and towards the wrist the fill turns into the hand's colour, so that a pale arm
    (lit like the chest) does not end in a darker hand with a step."""
    hand = (180, 120, 95)  # a hand darker and redder than the chest
    p = synthetic_person(512, 384, sleeves="long", skin=NECK_SKIN, arm_angle=30.0)
    img, lab, kp = p.image.copy(), p.labels, p.keypoints
    img[np.isin(lab, (LIP["left-arm"], LIP["right-arm"]))] = hand
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    out = _removed(img, lab, old, body)
    joint, elbow, wrist = body.arms[1]
    r = 0.05 * body.sw
    upper = capsule_mask(lab.shape, [(joint + 0.3 * (elbow - joint), elbow, r)]) & old
    low = capsule_mask(lab.shape, [(elbow + 0.6 * (wrist - elbow), wrist, r)]) & old
    assert upper.sum() > 100 and low.sum() > 50
    hand_lab = rgb_to_lab(np.array(hand, np.float32))
    de_upper = ciede2000(rgb_to_lab(np.median(out[upper], axis=0)), hand_lab)
    de_low = ciede2000(rgb_to_lab(np.median(out[low], axis=0)), hand_lab)
    assert de_low < 0.6 * de_upper, (de_low, de_upper)


def test_the_shoulders_rise_to_the_side_of_the_neck_where_a_collar_was():
    """A sweatshirt's shoulders rise to its collar around the base of the neck. Removed,
    that is skin (the neck's side sits well above the shoulder joints), not a wedge of
    background between the neck and a flat shoulder line."""
    p = synthetic_person(512, 384, sleeves="short", skin=NECK_SKIN, arm_angle=30.0)
    img, lab, kp = p.image.copy(), p.labels.copy(), p.keypoints
    body = body_frame(kp)
    sm, sw = body.shoulder_mid, body.sw
    ys, xs = np.mgrid[: lab.shape[0], : lab.shape[1]]
    dx, dy = np.abs(xs - sm[0]) / sw, (sm[1] - ys) / sw
    collar = (lab == 0) & (dx > 0.15) & (dx < 0.5) & (dy > -0.05) & (dy < 0.24 - 0.3 * dx)
    assert collar.sum() > 200
    lab[collar] = LIP["upper-clothes"]
    img[collar] = img[lab == LIP["upper-clothes"]][0]
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    out = _removed(img, lab, old, body)
    skin = rgb_to_lab(np.array(NECK_SKIN, np.float32))
    for fx, fy in ((0.21, 0.16), (0.33, 0.11)):
        x, y = round(sm[0] - fx * sw), round(sm[1] - fy * sw)
        assert collar[y, x]
        de = ciede2000(rgb_to_lab(out[y, x]), skin)
        assert de < 12.0, (fx, fy, de, out[y, x])


def test_the_fill_meets_a_lit_chest_paler_than_the_face_without_a_seam():
    """Light on the chest makes its skin paler and less saturated than the face's: too far
    from the face's colour to give the skin's colour, it is still the skin the fill must
    meet at the old neckline (a seam in colour along it read as a painted-on patch)."""
    lit_chest, face = (234, 212, 194), (196, 140, 112)
    p = synthetic_person(512, 384, sleeves="long", skin=NECK_SKIN, arm_angle=30.0)
    img, lab, kp = p.image.copy(), p.labels.copy(), p.keypoints
    img[lab == LIP["face"]] = face
    # A wide scoop neckline: the top of the old shirt is bare, lit chest.
    shirt = lab == LIP["upper-clothes"]
    top = int(np.flatnonzero(shirt.any(1))[0])
    chest = shirt & (np.arange(512)[:, None] < top + 40)
    chest &= ~capsule_mask(lab.shape, arm_segments(body_frame(kp), 1.2))
    lab[chest], img[chest] = LIP["neck"], lit_chest
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    out = _removed(img, lab, old, body)
    # The old shirt's pixels just under the bare chest.
    near = cv2.dilate(chest.astype(np.uint8), np.ones((9, 1), np.uint8)).astype(bool)
    under = (
        near & old & ~cv2.dilate(old.astype(np.uint8) ^ 1, np.ones((1, 9), np.uint8)).astype(bool)
    )
    assert under.sum() > 100
    de = ciede2000(rgb_to_lab(np.median(out[under], axis=0)), rgb_to_lab(np.array(lit_chest)))
    assert de < 4.0, de


def _tank_without_neck(arm_skin, face):
    """A person in a tank top whose collar hides the neck and whose face is darker than
    the bare arms (a beard, shade): (image, labels, the old top, body frame)."""
    p = synthetic_person(512, 384, sleeves="short", skin=arm_skin, arm_angle=8.0)
    img, lab = p.image.copy(), p.labels.copy()
    body = body_frame(p.keypoints)
    # bare the arms (a tank top), darken the face, hide the neck under the collar
    arms = capsule_mask(lab.shape, arm_segments(body, 1.1)) & (lab == LIP["upper-clothes"])
    img[arms], lab[arms] = arm_skin, LIP["left-arm"]
    img[lab == LIP["face"]] = face
    neck = lab == LIP["neck"]
    img[neck], lab[neck] = p.image[lab == LIP["upper-clothes"]][0], LIP["upper-clothes"]
    return img, lab, lab == LIP["upper-clothes"], body


def _chest_colour(out, old, body):
    """CIELAB median of the filled chest: inside the old top, above its lower part."""
    chest = cv2.erode(old.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    chest[round(body.shoulder_mid[1] + 0.6 * body.torso_len) :] = False
    return rgb_to_lab(np.median(out[chest], axis=0))


def test_without_a_neck_in_sight_the_chest_takes_the_bare_arms_beside_the_old_top():
    """A high collar hides the neck and a beard or shade darkens the face: the bare arms
    right beside a tank's armholes are lit like the chest under it, and give its colour
    (the face's made a dark slab of the chest)."""
    arm_skin, face = (200, 150, 115), (150, 105, 80)
    img, lab, old, body = _tank_without_neck(arm_skin, face)
    got = _chest_colour(_removed(img, lab, old, body), old, body)
    de_arm = ciede2000(got, rgb_to_lab(np.array(arm_skin, np.float32)))
    de_face = ciede2000(got, rgb_to_lab(np.array(face, np.float32)))
    assert de_arm < 8.0 and de_arm < de_face, (de_arm, de_face)


def test_the_chest_is_lit_like_the_bare_arms_not_like_their_shade_under_the_old_top():
    """Without a neck in sight the chest takes the bare arms' colour right beside the old
    top, but the skin nearest it lies in its shade (under a tee's sleeve, a tank's
    armhole): the chest, which the top covered and the light fell on, is as light as the
    lit part of them, not a dark slab."""
    arm_skin, face = (200, 150, 115), (150, 105, 80)
    img, lab, old, body = _tank_without_neck(arm_skin, face)
    # the old top's shade on the arm skin nearest it
    dist = cv2.distanceTransform((~old).astype(np.uint8), cv2.DIST_L2, 3)
    skin = np.isin(lab, (LIP["left-arm"], LIP["right-arm"]))
    # (three fifths of the skin beside it, the nearest)
    near = skin & (dist < 0.1 * body.sw)
    shade = near & (dist < np.percentile(dist[near], 60))
    assert shade.sum() > 200
    img[shade] = (np.float32(arm_skin) * 0.7).astype(np.uint8)
    got = _chest_colour(_removed(img, lab, old, body), old, body)
    de_lit = ciede2000(got, rgb_to_lab(np.array(arm_skin, np.float32)))
    assert de_lit < 6.0, de_lit

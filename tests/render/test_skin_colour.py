"""The colour of the skin that replaces an old top: the person's own torso skin."""

from __future__ import annotations

import cv2
import numpy as np

from tests.render.helpers import ciede2000, rgb_to_lab
from vton.person.labels import LIP
from vton.person.synthetic import synthetic_person
from vton.render.body import body_frame
from vton.render.removal import bare_body, remove_old_clothes

NECK_SKIN = (200, 150, 120)
FACE = (238, 200, 182)  # a face lighter than the body (make-up, or light on it)


def test_chest_takes_the_base_of_the_necks_colour_over_the_faces():
    p = synthetic_person(512, 384, sleeves="long", skin=NECK_SKIN, arm_angle=30.0)
    img, lab, kp = p.image.copy(), p.labels.copy(), p.keypoints
    img[lab == LIP["face"]] = FACE
    body = body_frame(kp)
    old = np.isin(lab, (LIP["upper-clothes"], LIP["coat"]))
    seam = -0.06 * body.sw
    assert (
        (lab == LIP["neck"]) & (np.arange(512)[:, None] > body.shoulder_mid[1] - 0.15 * body.sw)
    ).sum() > 400
    out = remove_old_clothes(img, lab, old, body, seam, body.torso_len, np.zeros(2))
    bare = bare_body(body, seam, lab.shape, np.zeros(2))
    chest = cv2.erode((old & bare).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    chest[: round(kp[2, 1] + 0.3 * body.sw)] = False
    chest[round(body.shoulder_mid[1] + 0.8 * body.torso_len) :] = False
    got = rgb_to_lab(np.median(out[chest], axis=0))
    de_neck = ciede2000(got, rgb_to_lab(np.array(NECK_SKIN, np.float32)))
    de_face = ciede2000(got, rgb_to_lab(np.array(FACE, np.float32)))
    assert de_neck < 6.0 and de_neck < de_face, (de_neck, de_face)

"""A sleeve on an arm raised away from the body (a hand on the hip) starts from an armpit
where the upper arm's underside meets the armhole: the torso's fit puts the armpit low on
its side (where a hanging arm's is), and a sleeve tapering from there along a raised arm
ran its underarm seam back up to the arm; the warp folded over itself there (the sleeve
split in two with background between, a shred of it hung below the arm). A hanging
arm's armpit stays where the torso puts it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.render.helpers import PersonSpec, flat_cloth_asset, person_asset
from vton.person.keypoints import IDX
from vton.render.base import RenderRequest
from vton.render.body import ARM_HALF, body_frame
from vton.render.physical import PhysicalRenderer, _raised_armpit


def _hand_on_hip_body():
    """A heavy-set front view (about 1024x768) with the right hand on the hip: the
    right upper arm 48 degrees out from the body (the geometry of a catalog photo)."""
    kp = np.zeros((18, 3))
    pts = {
        "Nose": (365, 120),
        "Neck": (365, 340),
        "RShoulder": (218, 329),
        "RElbow": (46, 483),
        "RWrist": (219, 622),
        "LShoulder": (512, 354),
        "LElbow": (600, 570),
        "LWrist": (682, 754),
        "RHip": (300, 760),
        "LHip": (470, 770),
    }
    for name, (x, y) in pts.items():
        kp[IDX[name]] = (x, y, 1.0)
    return body_frame(kp)


def _underside_offset(body, side, p) -> float:
    """(px) how far `p` is from the upper arm's underside line (the arm's axis moved its
    shoulder half-width towards the body), across the arm."""
    joint, elbow, _ = body.arms[side]
    d = (elbow - joint) / np.hypot(*(elbow - joint))
    n = np.array([-d[1], d[0]])
    return abs(abs(float((p - joint) @ n)) - ARM_HALF[0] * body.sw)


def test_a_raised_arms_armpit_moves_up_the_armhole_to_the_arms_underside():
    body = _hand_on_hip_body()
    root_o, root_i = np.array([182.0, 285.0]), np.array([207.0, 465.0])  # the torso's fit
    got = _raised_armpit(body, -1, root_o, root_i)
    # on the armhole, above the torso's armpit, on the arm's underside
    t = float((got - root_o) @ (root_i - root_o)) / float((root_i - root_o) @ (root_i - root_o))
    assert 0.4 < t < 0.85, t
    assert np.linalg.norm(got - (root_o + t * (root_i - root_o))) < 1e-6
    assert _underside_offset(body, -1, got) < 0.02 * body.sw
    # the other arm hangs (22 degrees out): its armpit is the torso's
    ro, ri = np.array([535.0, 320.0]), np.array([521.0, 467.0])
    assert np.array_equal(_raised_armpit(body, 1, ro, ri), ri)


def _drape(angle: float):
    spec = PersonSpec(512, 384, arm_angle=angle)
    pa, _ = person_asset(spec)
    return PhysicalRenderer().drape(RenderRequest("pair", flat_cloth_asset("tee"), pa))


def test_a_raised_arms_sleeve_starts_from_its_underside():
    drape = _drape(55.0)
    assert len(drape.plan.sleeves) == 2
    for sp in drape.plan.sleeves:
        root_i = sp.body_points[2]
        assert _underside_offset(drape.body, sp.side, root_i) < 0.03 * drape.body.sw


@pytest.mark.parametrize("angle", [12.0, 25.0])
def test_a_hanging_arms_armpit_stays_where_the_torso_puts_it(angle):
    drape = _drape(angle)
    for sp in drape.plan.sleeves:
        # the root spans shoulder seam to armpit down the torso's side
        root_o, root_i = sp.body_points[0], sp.body_points[2]
        assert root_i[1] - root_o[1] > 0.33 * drape.body.sw

"""The seam between a sleeve and the torso: no slit of skin or backdrop where a sleeve,
warped along an arm hanging close to the body, meets the torso part."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.render.helpers import (
    PersonSpec,
    arm_region,
    cloth_asset,
    flat_cloth_asset,
    person_asset,
    torso_region,
)
from vton.cloth.landmarks import garment_landmarks
from vton.cloth.prep import ClothAsset
from vton.geometry.capsules import capsule_mask, disc
from vton.person.labels import LIP
from vton.person.prep import PersonAsset
from vton.render.base import RenderRequest
from vton.render.physical import PhysicalRenderer
from vton.synthetic_garments import GarmentSpec


@pytest.mark.parametrize("arm_angle", [6.0, 12.0, 25.0])
def test_sleeve_covers_the_upper_arm_to_its_cuff_without_a_slit(arm_angle):
    renderer = PhysicalRenderer()
    cloth = cloth_asset(GarmentSpec("tee", "tee", "plain", (20, 20, 24), (20, 20, 24), seed=1))
    spec = PersonSpec(512, 384, arm_angle=arm_angle, sleeves="long")
    pa, _ = person_asset(spec)
    req = RenderRequest("pair", cloth, pa)
    out = renderer.render_one(req)
    drape = renderer.drape(req)
    cover = out.composition_mask >= 128
    sw = drape.body.sw
    for sp in drape.plan.sleeves:
        # from just below the shoulder to just above the cuff, across the arm's middle
        root, cuff = sp.body_points[1], sp.body_points[-2]
        a, b = root + 0.15 * (cuff - root), root + 0.85 * (cuff - root)
        zone = capsule_mask(cover.shape, [(a, b, 0.07 * sw)])
        assert cover[zone].mean() >= 0.99, (sp.side, cover[zone].mean())


@pytest.mark.parametrize("arm_angle", [4.0, 8.0])
def test_a_bare_arm_in_front_of_the_torsos_side_is_in_the_sleeve_up_to_the_shoulder(arm_angle):
    """A model in a tank top, arms hanging against the body: the photo's bare arm is in
    front of the torso's side, so the torso part is cut away there, and between the
    shoulder and the new sleeve's cuff the sleeve must cover all of it (the sleeve's
    planned outline alone left a slit of skin at the inner edge of the upper arm)."""
    renderer = PhysicalRenderer()
    cloth = cloth_asset(GarmentSpec("tee", "tee", "plain", (20, 20, 24), (20, 20, 24), seed=1))
    spec = PersonSpec(512, 384, arm_angle=arm_angle, sleeves="short")
    pa, p = person_asset(spec)
    # The short sleeves become bare arms: a tank top.
    arms = arm_region(spec, p) & (p.labels == LIP["upper-clothes"])
    arms &= ~cv2.dilate(torso_region(spec).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    labels, img = p.labels.copy(), p.image.copy()
    labels[arms], img[arms] = LIP["left-arm"], (224, 172, 140)
    pa = PersonAsset(img, p.mask, p.keypoints, {}, labels)
    req = RenderRequest("pair", cloth, pa)
    out = renderer.render_one(req)
    drape = renderer.drape(req)
    cover = out.composition_mask >= 128
    bare = np.isin(labels, (LIP["left-arm"], LIP["right-arm"]))
    ys, xs = np.mgrid[: bare.shape[0], : bare.shape[1]]
    for sp in drape.plan.sleeves:
        top, cuff = sp.body_points[0], sp.body_points[-2]
        d = cuff - top
        t = ((xs - top[0]) * d[0] + (ys - top[1]) * d[1]) / float(d @ d)
        zone = bare & (t > 0.1) & (t < 0.9) & (np.abs(xs - top[0]) < 0.5 * drape.body.sw)
        assert zone.sum() > 100
        assert cover[zone].mean() >= 0.98, (sp.side, cover[zone].mean())


def test_a_sleeves_outline_has_no_light_line_from_the_photos_backdrop():
    """A dark tee on a white backdrop whose mask takes in a pixel or two of the backdrop
    (anti-aliasing, a masker's margin): along the sleeve's outline on the body the colour
    is the fabric's pushed out, not a light line of the product photo's backdrop."""
    colour = (24, 24, 28)
    flat = flat_cloth_asset("tee", colour)
    mask = cv2.dilate(flat.mask, disc(2))  # the backdrop's fringe, taken in
    cloth = ClothAsset(flat.image, mask, garment_landmarks(mask), flat.meta)
    renderer = PhysicalRenderer()
    pa, _ = person_asset(PersonSpec(512, 384, arm_angle=25.0, sleeves="long"))
    req = RenderRequest("pair", cloth, pa)
    out = renderer.render_one(req)
    drape = renderer.drape(req)
    solid = out.composition_mask >= 250
    sw = drape.body.sw
    segs = [(sp.body_points[0], sp.body_points[-2], 0.4 * sw) for sp in drape.plan.sleeves]
    sleeves = capsule_mask(solid.shape, segs) & solid
    assert sleeves.sum() > 500
    luma = out.tryon.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])
    # the lightest few pixels of the solid sleeves stay near the fabric's dark colour
    assert np.percentile(luma[sleeves], 99.5) < 60, np.percentile(luma[sleeves], [50, 99, 99.5])


def test_pushed_out_colours_reach_a_wide_gap():
    """The colours pushed beyond a garment's edge (what a sleeve's warp sees where it
    samples off the flat lay, as round the armpit) reach every pixel, not only those a
    narrow blur reaches: the backdrop's white showed inside a dark sleeve there."""
    from vton.render.physical import _push_out

    dark = (45, 30, 60)
    mask = np.zeros((400, 400), np.uint8)
    mask[:, :40] = 255  # a narrow strip of garment at the left, the rest backdrop
    img = np.full((400, 400, 3), 255, np.uint8)
    img[mask > 0] = dark
    fill, _ = _push_out(img, mask)
    assert np.abs(fill.astype(int) - dark).max() <= 2

"""The seam between a sleeve and the torso: no slit of skin or backdrop where a sleeve,
warped along an arm hanging close to the body, meets the torso part."""

from __future__ import annotations

import pytest

from tests.render.helpers import PersonSpec, cloth_asset, person_asset
from vton.geometry.capsules import capsule_mask
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

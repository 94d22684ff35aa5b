"""The collar's shadow falls from the neck in sight onto the garment just under it, not
from skin the new garment covers: on a model in a deep scoop or a tank, the parse labels
the whole upper chest neck, and that skin, under a crew-neck tee, cast a grey bib across
the tee's chest."""

from __future__ import annotations

import numpy as np

from tests.render.helpers import PersonSpec, flat_cloth_asset, person_asset
from vton.person.labels import LIP
from vton.render.base import RenderRequest
from vton.render.physical import PhysicalRenderer

WHITE = (240, 240, 236)


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])


def test_skin_the_garment_covers_casts_no_collar_shadow():
    spec = PersonSpec(512, 384, arm_angle=25)
    pa, p = person_asset(spec)
    kp = p.keypoints
    sh_y = float(kp[[2, 5], 1].mean())
    hip_y = float(kp[[8, 11], 1].mean())
    sw = float(kp[5, 0] - kp[2, 0])
    # A deep scoop: the old top's upper chest, down to a third of the torso, is bare skin
    # and labelled neck, as a parser labels it.
    img, lab = pa.image.copy(), pa.parse.copy()
    y = np.arange(lab.shape[0])[:, None]
    x = np.arange(lab.shape[1])[None, :]
    scoop = (lab == LIP["upper-clothes"]) & (y < sh_y + 0.33 * (hip_y - sh_y))
    scoop &= np.abs(x - kp[1, 0]) < 0.4 * sw
    neck_skin = np.median(img[lab == LIP["neck"]], axis=0)
    img[scoop], lab[scoop] = neck_skin, LIP["neck"]
    person = type(pa)(img, pa.mask, pa.keypoints, pa.meta, lab)
    out = PhysicalRenderer().render_one(
        RenderRequest("pair", flat_cloth_asset("tee", WHITE), person)
    )
    cloth = out.composition_mask >= 250
    # The tee's chest just under its neckline, and lower down, over the same columns.
    cols = np.abs(x - kp[1, 0]) < 0.15 * sw
    top = int(np.flatnonzero((cloth & cols).any(1))[0])
    upper = cloth & cols & (y > top + 0.12 * sw) & (y < top + 0.3 * sw)
    lower = cloth & cols & (y > sh_y + 0.5 * (hip_y - sh_y)) & (y < sh_y + 0.65 * (hip_y - sh_y))
    assert upper.sum() > 200 and lower.sum() > 200
    # (was 0.78: a quarter of the light taken across the chest)
    ratio = np.median(_luma(out.tryon[upper])) / np.median(_luma(out.tryon[lower]))
    assert ratio > 0.93, ratio

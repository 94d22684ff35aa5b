"""A garment's shoulder line, straighter than a body's, is lifted onto the outline of the
person's shoulders: where the old top's shoulders stand higher than the new garment's top
edge (a shirt, a loose top), no wedge of it is left to be filled with skin above a tee."""

from __future__ import annotations

import numpy as np

from tests.render.helpers import PersonSpec, flat_cloth_asset, person_asset
from vton.person.labels import LIP
from vton.render import physical
from vton.render.base import RenderRequest
from vton.render.physical import PhysicalRenderer


def test_a_tee_rests_on_raised_shoulders_of_the_old_top():
    pa, p = person_asset(PersonSpec(512, 384, arm_angle=10))
    kp = p.keypoints
    sw, cx = float(kp[5, 0] - kp[2, 0]), float(kp[1, 0])
    img, lab = pa.image.copy(), pa.parse.copy()
    old = lab == LIP["upper-clothes"]
    x = np.arange(lab.shape[1])[None]
    y = np.arange(lab.shape[0])[:, None]
    # The old top's shoulders, between the neck and the shoulder points, raised by 0.07
    # shoulder widths (over what was background).
    cols = (np.abs(x - cx) > 0.22 * sw) & (np.abs(x - cx) < 0.5 * sw)
    shift = int(0.07 * sw)
    up = np.zeros_like(old)
    up[:-shift] = old[shift:]
    add = up & ~old & cols & (lab == 0)
    assert add.sum() > 200
    img[add], lab[add] = np.median(img[old], axis=0), LIP["upper-clothes"]
    person = type(pa)(img, pa.mask | add, pa.keypoints, pa.meta, lab)
    tee = flat_cloth_asset("tee", (200, 60, 60))
    out = PhysicalRenderer().render_one(RenderRequest("pair", tee, person))
    cloth = out.composition_mask >= 128
    shoulders = cols & (y < kp[2, 1] + 0.2 * sw) & (lab == LIP["upper-clothes"])
    # (87 of them were left to the skin fill: 4 % of the old top's shoulders)
    assert np.count_nonzero(shoulders & ~cloth) <= 0.02 * shoulders.sum()


def test_cloth_beyond_the_outline_above_the_chest_is_cut_not_airbrushed():
    """Above the chest, cloth standing out beyond the person's outline (the top of a
    sleeve beside a narrow shoulder) goes within a few hundredths of a shoulder width of
    rows: a fade over a fifth of a shoulder width drew it as a halo over the background."""
    h, w, sw = 200, 120, 100.0
    person = np.zeros((h, w), bool)
    person[:, 50:70] = True
    level = np.repeat((np.arange(h, dtype=np.float32) - 100.0)[:, None], w, axis=1)
    rest = physical._on_shoulders(person, level, 0.0, sw, 1.0)
    assert np.allclose(rest[100:, :], 1.0)  # from `until` down: everywhere
    assert rest[:, 58:62].min() > 0.99  # inside the outline: everywhere
    off = rest[:, 10]  # far outside the outline
    assert off[100] == 1.0
    assert off[: 100 - round(0.08 * sw)].max() == 0.0

"""Removal of the old upper garment: what a photo would show without it.

Wherever the person's old top is not covered by the new garment it must disappear without
a trace: skin where a body is, the background where background was, the person's own lower
garment where a shorter top uncovers it. The regions come from the label map and the body
frame alone (the old clothes' outline says how loose they were, not where the body is);
the fills come from the photo's own pixels, so colours and light match.
"""

from __future__ import annotations

import cv2
import numpy as np

from vton.geometry.capsules import capsule_mask
from vton.person.labels import LIP
from vton.render.body import SEAM_OUT, Body, arm_segments
from vton.render.shading import apply_gain, push_pull_fill, shading_gain, soft_shadow

__all__ = ["bare_body", "remove_old_clothes", "skin_layer"]

HEAD = (LIP["hat"], LIP["hair"], LIP["sunglasses"], LIP["face"])
LOWER = (LIP["pants"], LIP["skirt"])
SKIN = (LIP["neck"], LIP["left-arm"], LIP["right-arm"])


def bare_body(
    body: Body, seam_level: float, shape: tuple[int, int], origin: np.ndarray
) -> np.ndarray:
    """(H, W) bool over a crop at `origin`: where the person's bare body probably is under
    the clothes, from the keypoints alone (the clothes' outline says how loose they were,
    not where the body is): a neck, shoulders sloping from it to the seams, the torso at
    the keypoint estimate of its width down to the hips, and the arms."""
    sw = body.sw
    top = seam_level
    levels = np.concatenate(
        [
            [top - 0.45 * sw, top - 0.1 * sw, top - 0.09 * sw],
            np.linspace(top, body.torso_len * 1.05, 8),
        ]
    )
    half = body.width_model(levels)
    # neck, the base of the neck, the shoulders' slope down to the seams
    half[:4] = np.array([0.16, 0.16, 0.24, 0.5 + SEAM_OUT]) * sw
    centre = body.centre(levels) - origin
    acr = body.across(levels)
    left = centre - acr * half[:, None]
    right = centre + acr * half[:, None]
    poly = np.concatenate([left, right[::-1]])
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round(poly).astype(np.int32)], 1)
    return out.astype(bool) | capsule_mask(shape, arm_segments(body, 1.15), origin)


def remove_old_clothes(
    crop: np.ndarray,
    lab: np.ndarray,
    old: np.ndarray,
    body: Body,
    seam_level: float,
    hem_level: float,
    origin: np.ndarray,
) -> np.ndarray:
    """The crop with the old upper clothes replaced by what would be seen without them:
    skin where the body is (`bare_body`), the lower clothes below the new hem, the
    background outside."""
    if not old.any():
        return crop
    bh, bw = lab.shape
    sw = body.sw
    # Grow into the background a little: the old clothes' anti-aliased fringe.
    grow = cv2.dilate(old.astype(np.uint8), _disc(max(1, round(0.012 * sw)))).astype(bool)
    old = old | (grow & (lab == 0))
    ys, xs = np.nonzero(old)
    bare = bare_body(body, seam_level, (bh, bw), origin)
    rel = np.stack([xs, ys], 1) + origin - body.shoulder_mid
    level = rel @ body.axis
    below = level > hem_level
    skin = bare[ys, xs] & ~below
    lower = below & bare[ys, xs]
    bg = ~(skin | lower)
    crop_f = crop.astype(np.float32)
    out = crop_f.copy()
    if skin.any():
        out[ys[skin], xs[skin]] = skin_layer(crop_f, lab, old, bare, sw)[ys[skin], xs[skin]]
    for sel, labels_src in ((lower, LOWER), (bg, (0,))):
        if not sel.any():
            continue
        src = np.isin(lab, labels_src) & ~old
        if labels_src == (0,):
            src = cv2.erode(src.astype(np.uint8), _disc(max(1, round(0.01 * sw)))).astype(bool)
        if not src.any():
            src = ~old & ~np.isin(lab, HEAD)
        if not src.any():
            continue
        fill = push_pull_fill(crop_f, src.astype(np.float32))
        out[ys[sel], xs[sel]] = fill[ys[sel], xs[sel]]
    return out


def skin_layer(
    crop_f: np.ndarray, lab: np.ndarray, old: np.ndarray, bare: np.ndarray, sw: float
) -> np.ndarray:
    """A skin layer over the crop: the person's skin colour, lit like the old clothes
    were (their low-frequency light), darker towards the body's outline (it turns
    away from the light)."""
    # The face is the largest, best lit patch of skin; the neck is usually in its
    # shadow and arms are often small.
    face = lab == LIP["face"]
    skin_px = np.isin(lab, SKIN)
    if face.sum() >= 50:
        colour = 0.93 * np.median(crop_f[face], axis=0)
    elif skin_px.sum() >= 20:
        colour = np.median(crop_f[skin_px], axis=0)
    else:
        colour = np.array([205.0, 160.0, 135.0])
    light = shading_gain(crop_f.astype(np.uint8), old, sw, strength=0.8, wrinkles=0.0)
    # Rounded body: a soft falloff over the outer tenth of a shoulder width.
    dist = cv2.distanceTransform(bare.astype(np.uint8), cv2.DIST_L2, 3)
    light *= 0.82 + 0.18 * np.minimum(dist / max(0.1 * sw, 1.0), 1.0)
    # The chin's shadow on the neck.
    chin = soft_shadow(face.astype(np.float32), 0.06 * sw, (0.0, 0.06 * sw))
    light *= 1 - 0.35 * chin * (1 - face)
    skin = np.empty_like(crop_f)
    skin[:] = colour
    return apply_gain(skin, light)


def _disc(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))

"""Removal of the old upper garment: what a photo would show without it.

Wherever the person's old top is not covered by the new garment it must disappear without
a trace: skin where a body is, the background where background was, the person's own lower
garment where a shorter top uncovers it. The regions come from the label map and the body
frame alone (the old clothes' outline says how loose they were, not where the body is);
the fills come from the photo's own pixels, so colours, light and grain match:

- Region. The old clothes' label, grown over their anti-aliased fringe, closed over what
  the parser left out inside them (buttons, prints), and extended along the fringe and
  the arms over pixels labelled otherwise that have the old clothes' colour (a sleeve the
  parser called an arm or a skirt). Head pixels are never touched, and nothing outside
  the grown region changes.
- Background: diffusion inpainting (Telea, at a reduced resolution) with the photo's grain
  added; where the hole is thick and its surroundings are textured (a flag, a shelf), the
  photo's own background shifted into it at full resolution (the shift whose copy best
  matches the hole's surroundings, found for all shifts at once by a masked FFT
  correlation), its seam corrected smoothly, so stripes, lines and grain continue.
- Skin: the person's own skin colour (face and neck for the torso, the visible arms for
  the arms) on a rounded body (darker towards its outline), lit like the photo (the low
  frequency of the old clothes' light, the face's left-right light), the chin's shadow
  on the neck, the photo's grain, and blended into the visible skin at its edges.
- Lower garment: the visible skirt or trousers mirrored upwards about one line along
  their top edge, so the print continues; diffusion where the mirror finds none of it.
- Skin the parser labelled as the old clothes (along the arms, at the neck) is kept.

Cost: about 1.5 times the blur fill it replaces (most of it at a reduced resolution where
a shoulder is `_WORK_SHOULDER` px wide; the shift search only runs on textured surroundings).

Arrays: images (H, W, 3) uint8 RGB or float32 0..255; masks (H, W) bool.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from vton.geometry.capsules import capsule_mask
from vton.person.labels import LIP
from vton.render.body import SEAM_OUT, Body, arm_segments
from vton.render.shading import luminance, push_pull_fill, soft_shadow

__all__ = ["bare_body", "removal_region", "remove_old_clothes", "skin_layer"]

HEAD = (LIP["hat"], LIP["hair"], LIP["sunglasses"], LIP["face"])
LOWER = (LIP["pants"], LIP["skirt"])
SKIN = (LIP["neck"], LIP["left-arm"], LIP["right-arm"])
ARMS = (LIP["left-arm"], LIP["right-arm"])

#: Shoulder widths (px) the searches and smooth layers work at.
_WORK_SHOULDER = 80.0
#: The old clothes' fringe taken with them, in shoulder widths.
_FRINGE = 0.02
#: The largest box (px) the FFT search for a background shift works on.
_SEARCH_PX = 128
#: Mean fine detail (luma 0..1) of a background this plain needs no copying, only diffusion.
_PLAIN = 0.01
#: How far beyond the old clothes pixels of their colour are taken, in shoulder widths.
_COLOUR_BAND = 0.05
#: Lab distance below which a pixel has the old clothes' colour (and is nearer to it
#: than to its own label's typical colour).
_OLD_DE = 20.0


def bare_body(
    body: Body, seam_level: float, shape: tuple[int, int], origin: np.ndarray
) -> np.ndarray:
    """(H, W) bool over a crop at `origin`: where the person's bare body probably is under
    the clothes, from the keypoints alone (the clothes' outline says how loose they were,
    not where the body is): a neck, shoulders sloping from it to the seams, the torso at
    the keypoint estimate of its width down to the hips, and the arms."""
    return _torso_poly(body, seam_level, shape, origin) | capsule_mask(
        shape, arm_segments(body, 1.15), origin
    )


def _torso_poly(
    body: Body, seam_level: float, shape: tuple[int, int], origin: np.ndarray, f: float = 1.0
) -> np.ndarray:
    """(H, W) bool: the neck, shoulders and torso of `bare_body`, drawn at scale `f`."""
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
    poly = np.concatenate([left, right[::-1]]) * f
    out = np.zeros(shape, np.uint8)
    cv2.fillPoly(out, [np.round(poly).astype(np.int32)], 1)
    return out.astype(bool)


def removal_region(
    crop: np.ndarray, lab: np.ndarray, old: np.ndarray, body: Body, origin: np.ndarray
) -> np.ndarray:
    """(H, W) bool: every pixel of the old upper clothes, so that none stays in sight.

    crop: (H, W, 3) uint8 RGB; lab: (H, W) uint8 LIP ids; old: (H, W) bool, the old
    clothes as labelled; origin: the crop's (x, y) in the photo (the body frame's). Grows
    `old` by its fringe (a fiftieth of a shoulder width), fills what it encloses (not
    head, skin or lower clothes), and takes the pixels near it, or along the arms, that
    have its colour rather than their own label's. Never the head. Everything outside it
    is left as photographed by `remove_old_clothes`."""
    return _grow_old(crop, lab, old, body, origin)[0]


def _grow_old(
    crop: np.ndarray, lab: np.ndarray, old: np.ndarray, body: Body, origin: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`removal_region`, and the old clothes with what they enclose (classified by the
    body model like the clothes themselves, not by their own labels)."""
    h, w = lab.shape
    sw = body.sw
    head = np.isin(lab, HEAD)
    lower = np.isin(lab, LOWER)
    region = old.copy()
    # Enclosed by the old clothes and labelled as something else (a button, a print the
    # parser called background): part of them.
    by0, by1, bx0, bx1 = _bbox(old)
    sub = ~old[by0:by1, bx0:bx1]
    n, comp, stats, _ = cv2.connectedComponentsWithStats(sub.astype(np.uint8), connectivity=4)
    if n > 2:
        x, y, cw, ch, area = stats.T
        sh, sw_ = sub.shape
        touches = (x == 0) | (y == 0) | (x + cw == sw_) | (y + ch == sh)
        inner = ~touches & (area < 0.25 * sw * sw)
        inner[0] = False
        if inner[1:].any():
            keep = inner[comp] & ~np.isin(lab[by0:by1, bx0:bx1], (*HEAD, *LOWER, *SKIN))
            region[by0:by1, bx0:bx1] |= keep
    enclosed = region.copy()
    # The anti-aliased fringe.
    # (Into skin by more than a couple of pixels only where it is not skin-coloured:
    # skin there is the person's, a button or a speckle of sleeve is not.)
    r = max(3, round(_FRINGE * sw))
    grown = cv2.dilate(region.astype(np.uint8), _disc(r)).astype(bool) & ~head
    ref_skin = _median_lab(crop, lab == LIP["face"])
    if ref_skin is not None:
        near = cv2.dilate(region.astype(np.uint8), _disc(2)).astype(bool)
        ys, xs = np.nonzero(grown & ~near & np.isin(lab, SKIN))
        if ys.size:
            d_skin = np.linalg.norm((_lab_of(crop[ys, xs]) - ref_skin) * (0.5, 1, 1), axis=1)
            grown[ys[d_skin <= 14], xs[d_skin <= 14]] = False
    region |= grown
    # Pixels of the old clothes' colour next to them (a sleeve's edge labelled arm or
    # background) or along the arms (a sleeve labelled skirt): connected to the region.
    ref_old = _median_lab(crop, old)
    # Distances from the region (one transform serves both bands below).
    dist_out = cv2.distanceTransform((~region).astype(np.uint8), cv2.DIST_L2, 3)
    band = dist_out <= max(2, round(_COLOUR_BAND * sw))
    cand = band & ~region & ~head & ~lower
    if cand.any():
        ys, xs = np.nonzero(cand)
        px = _lab_of(crop[ys, xs])
        d_old = np.linalg.norm(px - ref_old, axis=1)
        own = np.full(ys.size, 1e3, np.float32)
        lbls = lab[ys, xs]
        for lbl in np.unique(lbls):
            # The label's own typical colour, away from the old clothes (a parser's
            # strip of sleeve called arm would otherwise be the arm's colour).
            ref = _median_lab(crop, (lab == lbl) & ~band)
            if ref is None:
                ref = _median_lab(crop, (lab == lbl) & ~region)
            if ref is not None:
                at = lbls == lbl
                own[at] = np.linalg.norm(px[at] - ref, axis=1)
        take = (d_old < _OLD_DE) & (d_old < 0.8 * own)
        if ref_skin is not None:
            # Never the person's skin (lit skin can be near a white top's colour).
            skin_px = np.isin(lbls, SKIN)
            d_skin = np.linalg.norm((px[skin_px] - ref_skin) * (0.5, 1, 1), axis=1)
            take[skin_px] &= d_skin > 14
        region[ys[take], xs[take]] = True
    # Along the arms or just under the old clothes, pixels labelled as lower clothes but
    # of the old clothes' colour: a sleeve or a hem the parser called a skirt, connected
    # to the region.
    # The arms; the forearms with the cuffs past the wrists.
    forearms = [
        capsule_mask(
            (h, w),
            [(elbow, wrist, 0.13 * sw), (wrist, wrist + (wrist - elbow) * 0.25, 0.12 * sw)],
            origin,
        )
        for _, elbow, wrist in body.arms.values()
    ]
    arms = capsule_mask((h, w), arm_segments(body, 1.3), origin) | forearms[0] | forearms[1]
    near = dist_out <= max(2, round(0.15 * sw))
    cand = (arms | near) & lower & ~region
    src_low = lower & ~arms & ~near
    if cand.any() and src_low.sum() >= 50:
        # A print has many colours: compare with the colour histograms of the old
        # clothes and of the lower clothes away from them, not with one typical colour.
        ys, xs = np.nonzero(cand)
        p_old = _colour_density(crop, old)
        p_low = _colour_density(crop, src_low)
        bins = _colour_bins(crop[ys, xs])
        sel = p_old[bins] > 4 * p_low[bins] + 1e-3
        # Along a forearm a sleeve the colour of the old clothes, nearer to theirs than to
        # the lower clothes' typical one (a black sleeve by a leopard print's black spots)
        # when most of the forearm is such (a print's spots beside a hand are not).
        ref_low = _median_lab(crop, src_low)
        if ref_low is not None:
            px = _lab_of(crop[ys, xs])
            d_old = np.linalg.norm(px - ref_old, axis=1)
            d_low = np.linalg.norm(px - ref_low, axis=1)
            sleeve_like = (d_old < 1.5 * _OLD_DE) & (d_old < 0.6 * d_low)
            for fore in forearms:
                at = fore[ys, xs]
                if at.sum() >= 20 and sleeve_like[at].mean() > 0.5:
                    sel[at] |= sleeve_like[at]
        like = np.zeros((h, w), np.uint8)
        like[ys[sel], xs[sel]] = 1
        like = cv2.morphologyEx(like, cv2.MORPH_CLOSE, _disc(2)).astype(bool) & cand
        if like.any():
            n, comp = cv2.connectedComponents((region | like).astype(np.uint8))
            keep = np.zeros(n, bool)
            keep[np.unique(comp[region])] = True
            keep[0] = False
            region |= like & keep[comp]
    # The fringe of what the colours added.
    added = region & ~grown
    if added.any():
        region |= cv2.dilate(added.astype(np.uint8), _disc(2)).astype(bool) & ~head
    return region, enclosed


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
    skin where the body is (`bare_body`) above the new hem, the lower clothes below it,
    the background outside. Returns (H, W, 3) float32 0..255; pixels outside the grown
    region (`removal_region`) keep the crop's values exactly."""
    crop_f = crop.astype(np.float32)
    if not old.any():
        return crop_f
    h, w = lab.shape
    sw = body.sw
    # Skin the parser called clothes (an arm's edge, a neckline) is the person's own.
    bare_skin = _skin_in_old(crop, lab, old, body, origin)
    if bare_skin.any():
        old = old & ~bare_skin
        lab = lab.copy()
        lab[bare_skin] = LIP["left-arm"]
        if not old.any():
            return crop_f
    region, enclosed = _grow_old(crop, lab, old, body, origin)
    bare = bare_body(body, seam_level, (h, w), origin)
    level = _levels(body, (h, w), origin)
    lower_lab = np.isin(lab, LOWER)
    skin_lab = np.isin(lab, SKIN)
    # Old pixels: by the body model; pixels taken with them: by their own label, except
    # a "lower" sleeve along an arm, which is skin.
    arm_caps = capsule_mask((h, w), arm_segments(body, 1.15), origin)
    in_old = enclosed | ~(lower_lab | skin_lab | (lab == 0)) & region
    below = level > hem_level
    skin = region & (
        (in_old & bare & ~below) | (~in_old & skin_lab) | (~in_old & lower_lab & arm_caps)
    )
    lower = region & ~skin & ((in_old & bare & below) | (~in_old & lower_lab))
    bg = region & ~skin & ~lower
    out = crop_f.copy()
    f = min(1.0, _WORK_SHOULDER / sw)
    if skin.any():
        out[skin] = skin_layer(crop_f, lab, region, bare, body, origin, f, where=skin)
    if lower.any():
        _lower_fill(crop, lab, region, lower, sw, f, out)
    if bg.any():
        _background_fill(crop, lab, region, bg, sw, f, out)
    return out


def _skin_in_old(
    crop: np.ndarray, lab: np.ndarray, old: np.ndarray, body: Body, origin: np.ndarray
) -> np.ndarray:
    """(H, W) bool: pixels labelled as the old clothes, along the arms or at the neck,
    that have the person's skin colour (the face's) and not the clothes' (a parser's
    outline rarely follows an arm exactly)."""
    h, w = lab.shape
    face = lab == LIP["face"]
    ref_skin = _median_lab(crop, face) if face.sum() >= 50 else None
    if ref_skin is None:
        return np.zeros((h, w), bool)
    zone = capsule_mask((h, w), arm_segments(body, 1.4), origin)
    top = body.shoulder_mid - 0.5 * body.sw * body.axis
    neck = (top - origin, body.shoulder_mid - origin, 0.25 * body.sw)
    zone |= capsule_mask((h, w), [neck], None)
    cand = old & zone
    ref_old = _median_lab(crop, old & ~cand)
    if ref_old is None or not cand.any() or np.linalg.norm(ref_old - ref_skin) < 20:
        return np.zeros((h, w), bool)
    ys, xs = np.nonzero(cand)
    px = _lab_of(crop[ys, xs])
    d_skin = np.linalg.norm((px - ref_skin) * (0.5, 1, 1), axis=1)
    d_old = np.linalg.norm(px - ref_old, axis=1)
    # Skin-coloured pixels, with the skin labelled as such around them (so that the
    # filter below does not eat the edge they share with it).
    like = np.where(np.isin(lab, SKIN), 255, 0).astype(np.uint8)
    sel = (d_skin < 14) & (d_skin < 0.5 * d_old)
    like[ys[sel], xs[sel]] = 255
    like = cv2.medianBlur(like, 5)  # not single pixels of a print
    # ...nor holes in the skin: left as clothes, their fringe would eat into it.
    return cv2.morphologyEx(like, cv2.MORPH_CLOSE, _disc(3)).astype(bool) & cand


def _colour_bins(px: np.ndarray) -> np.ndarray:
    """(N,) histogram bin of (N, 3) uint8 RGB pixels: 8 levels a channel."""
    q = (px >> 5).astype(np.int64)
    return (q[:, 0] << 6) | (q[:, 1] << 3) | q[:, 2]


def _colour_density(crop: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(512,) the colour histogram of `where` (a subsample of it), summing to 1, lightly
    spread to neighbouring bins of the same hue (a shade darker or lighter)."""
    ys, xs = np.nonzero(where)
    step = max(1, ys.size // 20000)
    hist = np.bincount(_colour_bins(crop[ys[::step], xs[::step]]), minlength=512)
    hist = hist.astype(np.float64).reshape(8, 8, 8)
    spread = hist.copy()
    # One level brighter or darker on every channel at once (no wrapping round).
    spread[1:, 1:, 1:] += 0.5 * hist[:-1, :-1, :-1]
    spread[:-1, :-1, :-1] += 0.5 * hist[1:, 1:, 1:]
    return (spread / max(spread.sum(), 1.0)).reshape(-1)


def _lab_of(px: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 RGB -> (N, 3) float32 CIELAB (L 0..100)."""
    lab = cv2.cvtColor(px.reshape(-1, 1, 3).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab.reshape(-1, 3)


def _median_lab(crop: np.ndarray, where: np.ndarray) -> np.ndarray | None:
    """(3,) median CIELAB over `where` (a subsample of it), None for fewer than 20 px."""
    n = int(np.count_nonzero(where))
    if n < 20:
        return None
    k = max(1, int(np.sqrt(n / 2000)))  # a grid subsample: cheaper than all of it
    ys, xs = np.nonzero(where[::k, ::k])
    if ys.size < 20:
        ys, xs, k = *np.nonzero(where), 1
    return np.median(_lab_of(crop[ys * k, xs * k]), axis=0)


def _levels(body: Body, shape: tuple[int, int], origin: np.ndarray) -> np.ndarray:
    """(H, W) float32: each pixel's distance (px) along the body axis below the shoulder line."""
    h, w = shape
    ax = body.axis.astype(np.float32)
    x = (np.arange(w, dtype=np.float32) + np.float32(origin[0] - body.shoulder_mid[0])) * ax[0]
    y = (np.arange(h, dtype=np.float32) + np.float32(origin[1] - body.shoulder_mid[1])) * ax[1]
    return y[:, None] + x[None, :]


def skin_layer(
    crop_f: np.ndarray,
    lab: np.ndarray,
    region: np.ndarray,
    bare: np.ndarray,
    body: Body,
    origin: np.ndarray,
    f: float = 1.0,
    where: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W, 3) float32 0..255: the person's skin over the crop, where their clothes were;
    with `where` ((H, W) bool) only those pixels are computed, as (N, 3) in the order of
    `np.nonzero(where)` (the rest of a full layer would be thrown away).

    crop_f: (H, W, 3) float32 photo crop; lab: (H, W) LIP ids; region: (H, W) bool, what is
    removed (not a source of skin); bare: (H, W) bool, the body (`bare_body`); `f`: the
    reduced scale the smooth layers are computed at. The colour is the person's own (face
    and neck for the torso, the visible arms for the arms), on a rounded body lit like the
    photo, with the chin's shadow on the neck and the photo's grain, and offset at its
    edges to meet the visible skin without a seam."""
    h, w = lab.shape
    sw = body.sw
    # Colours are read at the reduced scale: medians need no more.
    size = (max(4, round(w * f)), max(4, round(h * f)))
    small = cv2.resize(crop_f, size, interpolation=cv2.INTER_AREA)
    lab_s = cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST)
    bare_s = cv2.resize(bare.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    reg_s = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    face = (lab_s == LIP["face"]) & ~reg_s
    neck = (lab_s == LIP["neck"]) & ~reg_s
    arms_vis = np.isin(lab_s, ARMS) & ~reg_s
    if face.sum() >= 12:
        # A parser's "arm" or "neck" holds sleeves and hair too: skin colours only.
        lab_px = cv2.cvtColor(np.clip(small, 0, 255) / np.float32(255), cv2.COLOR_RGB2Lab)
        ref = np.median(lab_px[face], axis=0)
        skin_like = np.linalg.norm((lab_px - ref) * np.float32((0.5, 1, 1)), axis=2) <= 14
        neck &= skin_like
        arms_vis &= skin_like
    torso_c = _skin_colour(small, face, neck, arms_vis)
    arm_c = np.median(small[arms_vis], axis=0) if arms_vis.sum() >= 25 else torso_c
    sws = sw * f
    # Where the arms are: their colour, blended softly into the torso's.
    sh_s = (size[1], size[0])
    segs = [(p * f, q * f, r * f) for p, q, r in arm_segments(body, 1.15)]
    arm_s = capsule_mask(sh_s, segs, origin * f).astype(np.float32)
    torso_s = _torso_poly(body, -0.1 * sw, sh_s, origin, f).astype(np.float32)
    arm_w = cv2.GaussianBlur(arm_s * (1 - torso_s), (0, 0), max(0.6, 0.04 * sws))
    colour = torso_c[None, None] * (1 - arm_w[..., None]) + arm_c[None, None] * arm_w[..., None]
    # A rounded body: darker over the outer eighth of a shoulder width (it turns away).
    person_s = cv2.resize((lab > 0).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    dist = cv2.distanceTransform(bare_s & person_s, cv2.DIST_L2, 3)
    t = np.minimum(dist / max(0.12 * sws, 1.0), 1.0)
    light = 0.82 + 0.18 * np.sqrt(t * (2 - t))
    # The photo's light: the old clothes' luminance, very low frequency, a third of it.
    old_s = reg_s & (bare_s > 0)
    if old_s.sum() >= 20:
        lum = luminance(small)
        log_l = np.log(np.maximum(lum, 1 / 255)).astype(np.float32)
        wgt = old_s.astype(np.float32)
        sig = max(1.0, 0.3 * sws)
        num = cv2.GaussianBlur(log_l * wgt, (0, 0), sig)
        den = cv2.GaussianBlur(wgt, (0, 0), sig)
        low = np.where(den > 0.05, num / np.maximum(den, 1e-6), 0).astype(np.float32)
        ok = den > 0.05
        if ok.any():
            low = push_pull_fill(low, ok.astype(np.float32))
            low -= float(np.median(low[old_s]))
            light *= np.exp(0.3 * np.clip(low, -0.35, 0.35))
    # The face's left-right light, carried across the body.
    if face.sum() >= 40:
        ys, xs = np.nonzero(face)
        lum_face = luminance(small[ys, xs][None])[0]
        cx = xs.mean()
        lft, rgt = lum_face[xs < cx], lum_face[xs >= cx]
        if lft.size > 12 and rgt.size > 12:
            ratio = float(np.median(rgt) / max(np.median(lft), 1e-3))
            slope = np.clip(np.log(max(ratio, 1e-3)), -0.15, 0.15) * 0.5  # per half shoulder
            xs_s = np.arange(size[0], dtype=np.float32) / f + origin[0] - body.shoulder_mid[0]
            across = xs_s / max(0.5 * sw, 1.0)
            light *= np.exp(slope * np.clip(across, -1.5, 1.5))[None, :].astype(np.float32)
    # The chin's shadow on the neck.
    face_s = face.astype(np.float32)
    chin = soft_shadow(face_s, 0.06 * sws, (0.0, 0.06 * sws))
    light *= 1 - 0.3 * chin * (1 - face_s)
    skin_s = colour * light[..., None]
    # Meet the visible skin without a seam: the difference along its edge, spread inwards
    # and fading over a few tenths of a shoulder width.
    vis_s = cv2.erode((neck | arms_vis).astype(np.uint8), _disc(2)).astype(bool)  # no speckles
    edge = vis_s & cv2.dilate(reg_s.astype(np.uint8), _disc(3)).astype(bool)
    if edge.sum() >= 5:
        delta = np.clip(small - skin_s, -60, 60) * edge[..., None]
        spread = push_pull_fill(delta.astype(np.float32), edge.astype(np.float32))
        d_edge = cv2.distanceTransform((~edge).astype(np.uint8), cv2.DIST_L2, 3)
        fade = np.exp(-d_edge / max(0.2 * sws, 1.0))[..., None]
        skin_s = skin_s + spread * fade
    # The photo's grain, as measured on the face (a flat fill looks painted).
    grain = _grain(crop_f, (lab == LIP["face"]) & ~region)
    if where is None:
        skin = cv2.resize(skin_s, (w, h), interpolation=cv2.INTER_LINEAR)
        box = _bbox(region, 2)
        if grain > 0.3 and box is not None:
            y0, y1, x0, x1 = box
            skin[y0:y1, x0:x1] += _grain_noise((y0, y1, x0, x1), 0.8 * grain)[..., None]
        return skin
    ys, xs = np.nonzero(where)
    gy = np.clip((ys + 0.5) * (size[1] / h) - 0.5, 0, size[1] - 1).astype(np.float32)
    gx = np.clip((xs + 0.5) * (size[0] / w) - 0.5, 0, size[0] - 1).astype(np.float32)
    vals = _sample(skin_s.astype(np.float32), gx, gy)
    if grain > 0.3:
        tile = _noise_tile()
        vals += (tile[ys % tile.shape[0], xs % tile.shape[1]] * np.float32(0.8 * grain))[:, None]
    return vals


def _skin_colour(img, face, neck, arms) -> np.ndarray:
    """(3,) the person's torso skin colour from the (reduced) image: the face's, a little
    darker (a chest is lit less directly); without a face the neck's (usually in the
    chin's shadow), lightened; else the arms'."""
    if face.sum() >= 12:
        return (0.93 * np.median(img[face], axis=0)).astype(np.float32)
    if neck.sum() >= 12:
        return np.minimum(1.08 * np.median(img[neck], axis=0), 255).astype(np.float32)
    if arms.sum() >= 6:
        return np.median(img[arms], axis=0).astype(np.float32)
    return np.array([205.0, 160.0, 135.0], np.float32)


def _grain(crop_f: np.ndarray, where: np.ndarray) -> float:
    """Std of the photo's fine grain (px values) inside `where`, robustly; 0 if too few."""
    box = _bbox(where, 4)
    if box is None:
        return 0.0
    y0, y1, x0, x1 = box
    where = cv2.erode(where[y0:y1, x0:x1].astype(np.uint8), _disc(2)).astype(bool)
    if where.sum() < 100:
        return 0.0
    g = crop_f[y0:y1, x0:x1].mean(axis=2)
    hp = g - cv2.GaussianBlur(g, (0, 0), 1.5)
    v = hp[where]
    return float(min(4.0, 1.4826 * np.median(np.abs(v - np.median(v)))))


def _lower_fill(
    crop: np.ndarray,
    lab: np.ndarray,
    region: np.ndarray,
    hole: np.ndarray,
    sw: float,
    f: float,
    out: np.ndarray,
) -> None:
    """Write into `out` ((H, W, 3) float32) at `hole` the person's lower clothes continued
    upwards: the visible garment mirrored about a line along its top edge, so its print
    continues; diffusion where no mirrored pixel is the garment."""
    h, w = lab.shape
    known = np.isin(lab, LOWER) & ~region
    # Sources: the lower clothes, or legs (a parser splits a print between them).
    src_ok = np.isin(lab, (*LOWER, LIP["left-leg"], LIP["right-leg"])) & ~region
    filled = np.zeros((h, w), bool)
    ys, xs = np.nonzero(hole)
    cols = np.unique(xs)
    has = known.any(0)
    if has[cols].any():
        # One line to mirror about, for all columns: a parser's ragged top edge would
        # tear the columns apart. Low in the ragged band, so that it lies on the garment.
        top = known.argmax(0)
        bottom = h - 1 - known[::-1].argmax(0)
        at = cols[has[cols]]
        y_ref = int(np.percentile(top[at], 75))
        depth = max(4, int(np.median(bottom[at] - y_ref)))
        k = np.mod(y_ref - ys, 2 * depth)
        off = np.where(k < depth, k, 2 * depth - 1 - k)
        sy = np.clip(y_ref + off, 0, h - 1)
        good = src_ok[sy, xs]
        out[ys[good], xs[good]] = crop[sy[good], xs[good]]
        filled[ys[good], xs[good]] = True
    rest = hole & ~filled
    if rest.any():
        src = known if known.any() else ~region
        _diffuse(crop, src, rest, f, out)


def _background_fill(
    crop: np.ndarray,
    lab: np.ndarray,
    region: np.ndarray,
    hole: np.ndarray,
    sw: float,
    f: float,
    out: np.ndarray,
) -> None:
    """Write into `out` ((H, W, 3) float32) at `hole` the background continued over it.
    Where the hole is thick,
    the background itself is shifted in (the shift that best matches the hole's
    surroundings, per part of the hole), the seam corrected smoothly; thin fringes and
    pixels no shift covers are inpainted by diffusion."""
    h, w = lab.shape
    known = (lab == 0) & ~region
    # Keep clear of the old clothes' and the person's edges: a soft fringe of them
    # would be copied in.
    known = cv2.erode(known.astype(np.uint8), _disc(max(1, round(0.006 * sw)))).astype(bool)
    if not known.any():
        known = ~region & ~np.isin(lab, HEAD)
        if not known.any():
            return
    _diffuse(crop, known, hole, f, out)
    # The photo's grain on the diffused fill (a copy, below, brings its own).
    box = _bbox(hole, max(4, round(0.05 * sw)))
    if box is not None:
        y0, y1, x0, x1 = box
        grain = _grain(crop[y0:y1, x0:x1].astype(np.float32), known[y0:y1, x0:x1])
        if grain > 0.3:
            noise = _grain_noise((y0 + 97, y1 + 97, x0 + 41, x1 + 41), 0.8 * grain)
            sel = hole[y0:y1, x0:x1]
            out[y0:y1, x0:x1][sel] += noise[sel][:, None]
    size = (max(4, round(w * f)), max(4, round(h * f)))
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    known_s = cv2.resize(known.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.999
    hole_s = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.0
    # Thick parts: more than 2 reduced pixels from anything known.
    dist = cv2.distanceTransform((~known_s).astype(np.uint8), cv2.DIST_L2, 3)
    core = (dist > 2.5) & hole_s
    if not core.any():
        return
    _, comp, stats, _ = cv2.connectedComponentsWithStats(core.astype(np.uint8), connectivity=8)
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:3] + 1
    ring_r = max(3, round(0.08 * sw * f))
    copy = np.zeros((h, w, 3), np.float32)
    done = np.zeros((h, w), np.uint8)
    # Texture of the reduced background: where the surroundings are plain (a studio
    # backdrop) diffusion is all it takes.
    lum = luminance(small)
    kn = known_s.astype(np.float32)
    smooth = cv2.GaussianBlur(lum * kn, (0, 0), 6.0) / np.maximum(
        cv2.GaussianBlur(kn, (0, 0), 6.0), 1e-3
    )  # of the known background only: the person's edge is no texture
    detail = np.abs(lum - smooth)
    for c in order:
        todo_s = cv2.dilate((comp == c).astype(np.uint8), _disc(3)).astype(bool) & hole_s
        ring0 = cv2.dilate(todo_s.astype(np.uint8), _disc(ring_r)).astype(bool) & known_s
        if ring0.sum() < 8 or float(np.mean(detail[ring0])) < _PLAIN:
            continue
        # A few passes: a shift rarely brings known pixels onto all of a long hole (one
        # along a flag's stripes runs out of the photo); the rest gets the next best.
        for _ in range(2):
            if todo_s.sum() < 4:
                break
            ring_s = cv2.dilate(todo_s.astype(np.uint8), _disc(ring_r)).astype(bool) & known_s
            if ring_s.sum() < 8:
                break
            d = _best_shift(small, known_s, todo_s, ring_s)
            if d is None:
                break
            # The full-resolution pixels still to fill, in the box of the reduced ones.
            sy0, sy1, sx0, sx1 = _bbox(todo_s, 1)
            y0, y1 = int(sy0 / f), min(h, int(np.ceil(sy1 / f)))
            x0, x1 = int(sx0 / f), min(w, int(np.ceil(sx1 / f)))
            part = cv2.resize(
                todo_s[sy0:sy1, sx0:sx1].astype(np.uint8),
                (x1 - x0, y1 - y0),
                interpolation=cv2.INTER_NEAREST,
            )
            todo = (part > 0) & hole[y0:y1, x0:x1] & (done[y0:y1, x0:x1] == 0)
            ys, xs = np.nonzero(todo)
            got = _paste_shift(crop, known, ys + y0, xs + x0, small, known_s, ring_s, d, f)
            if got is None:
                break
            (yo, xo), vals = got
            copy[yo, xo] = vals
            done[yo, xo] = 1
            todo_s[np.minimum((yo * f).astype(np.int64), size[1] - 1),
                   np.minimum((xo * f).astype(np.int64), size[0] - 1)] = False  # fmt: skip
    if done.any():
        # Blend into the diffusion fill over a couple of reduced pixels from every edge of
        # what was copied (the known background, thin fringes, the body): no seams, and
        # stray thin bits of a copy fade out.
        y0, y1, x0, x1 = _bbox(done, 2)
        dn = done[y0:y1, x0:x1]
        a = np.minimum(cv2.distanceTransform(dn, cv2.DIST_L2, 3) / max(1.5 / f, 1.0), 1.0)
        sel = dn > 0
        o, c = out[y0:y1, x0:x1], copy[y0:y1, x0:x1]
        o[sel] += (c[sel] - o[sel]) * a[sel][:, None]


def _paste_shift(crop, known, ys, xs, small, known_s, ring_s, d, f):
    """The crop shifted by `d` (reduced px) at the full-resolution pixels (ys, xs) whose
    source is known, the seam corrected by the ring's difference to its shifted self
    (spread smoothly): ((ys, xs), (N, 3) float32 values), or None when nothing is copied."""
    h, w = known.shape
    dx, dy = d
    sh = _shift(small, dx, dy)
    sk = _shift(known_s.astype(np.uint8), dx, dy).astype(bool)
    seam_w = ring_s & sk
    if seam_w.sum() < 4:
        return None
    delta = (small - sh) * seam_w[..., None]
    spread = push_pull_fill(delta, seam_w.astype(np.float32))
    sx = np.round(xs - dx / f).astype(np.int64)
    sy = np.round(ys - dy / f).astype(np.int64)
    inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
    ok = inside.copy()
    ok[inside] = known[sy[inside], sx[inside]]
    if not ok.any():
        return None
    yo, xo = ys[ok], xs[ok]
    # The smooth seam correction, sampled at the full-resolution pixels.
    gy = np.clip((yo + 0.5) * f - 0.5, 0, small.shape[0] - 1).astype(np.float32)
    gx = np.clip((xo + 0.5) * f - 0.5, 0, small.shape[1] - 1).astype(np.float32)
    corr = _sample(spread, gx, gy)
    return (yo, xo), crop[sy[ok], sx[ok]].astype(np.float32) + corr


def _shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """a shifted so that out[p] = a[p - (dx, dy)] (zeros where that falls outside)."""
    h, w = a.shape[:2]
    out = np.zeros_like(a)
    ys0, ys1 = max(0, dy), min(h, h + dy)
    xs0, xs1 = max(0, dx), min(w, w + dx)
    if ys1 > ys0 and xs1 > xs0:
        out[ys0:ys1, xs0:xs1] = a[ys0 - dy : ys1 - dy, xs0 - dx : xs1 - dx]
    return out


def _best_shift(
    img: np.ndarray, known: np.ndarray, hole: np.ndarray, ring: np.ndarray
) -> tuple[int, int] | None:
    """The shift (dx, dy) that carries known pixels onto the hole (out[p] = img[p - d]),
    chosen for the smallest mean squared difference over the ring around it, among shifts
    that bring known pixels onto most of the hole and most of the ring. Every shift up to
    one and a half times the hole's size is tried at once (a masked correlation by FFT, on
    a box at most `_SEARCH_PX` across), then refined on the full reduced image. None when
    no shift qualifies."""
    h, w = known.shape
    ys, xs = np.nonzero(hole | ring)
    ext = max(ys.max() - ys.min(), xs.max() - xs.min()) + 1
    win = int(1.5 * ext) + 2
    y0, y1 = max(0, ys.min() - win), min(h, ys.max() + 1 + win)
    x0, x1 = max(0, xs.min() - win), min(w, xs.max() + 1 + win)
    q = min(1.0, _SEARCH_PX / max(y1 - y0, x1 - x0))
    size = (max(2, round((x1 - x0) * q)), max(2, round((y1 - y0) * q)))

    def sub(a, thr):
        a = cv2.resize(a[y0:y1, x0:x1].astype(np.float32), size, interpolation=cv2.INTER_AREA)
        return (a > thr).astype(np.float32)

    k, r, hm = sub(known, 0.999), sub(ring, 0.5), sub(hole, 0.0)
    if r.sum() < 4 or hm.sum() < 1:
        return None
    g = luminance(cv2.resize(img[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA))
    sh, sw_ = cv2.getOptimalDFTSize(2 * size[1]), cv2.getOptimalDFTSize(2 * size[0])

    def fft(a):
        return np.fft.rfft2(a, (sh, sw_))

    fk, fr = fft(k), fft(r)
    # corr(A, B)(s) = sum_p A(p) B(p + s); the source of p is p + s = p - d.
    num = np.conj(fft(r * g * g)) * fk + np.conj(fr) * fft(k * g * g)
    num -= 2 * np.conj(fft(r * g)) * fft(k * g)
    ssd = np.fft.irfft2(num, (sh, sw_))
    cnt = np.fft.irfft2(np.conj(fr) * fk, (sh, sw_))
    cover = np.fft.irfft2(np.conj(fft(hm)) * fk, (sh, sw_))
    n_ring, n_hole = float(r.sum()), float(hm.sum())
    ok = (cnt > 0.5 * n_ring) & (cover > 0.3 * n_hole)
    ok[0, 0] = False
    if not ok.any():
        return None
    score = np.where(ok, ssd / np.maximum(cnt, 1) + 0.01 * (1 - cover / n_hole), np.inf)
    iy, ix = np.unravel_index(int(np.argmin(score)), score.shape)
    sy = iy if iy < sh // 2 else iy - sh
    sx = ix if ix < sw_ // 2 else ix - sw_
    dx, dy = -sx / q, -sy / q
    # Refine on the reduced image, in colour, around the coarse shift.
    rys, rxs = np.nonzero(ring)
    hys, hxs = np.nonzero(hole)
    step = max(1, rys.size // 1500)
    rys, rxs = rys[::step], rxs[::step]
    hstep = max(1, hys.size // 1500)
    hys, hxs = hys[::hstep], hxs[::hstep]
    ref = img[rys, rxs].astype(np.float32)
    best, best_d = np.inf, None
    span = int(np.ceil(0.5 / q))
    for ddy in range(-span, span + 1):
        for ddx in range(-span, span + 1):
            cx, cy = round(dx) + ddx, round(dy) + ddy
            if cx == 0 and cy == 0:
                continue
            sy_, sx_ = rys - cy, rxs - cx
            inb = (sy_ >= 0) & (sy_ < h) & (sx_ >= 0) & (sx_ < w)
            v = np.zeros(rys.size, bool)
            v[inb] = known[sy_[inb], sx_[inb]]
            hy, hx = hys - cy, hxs - cx
            hin = (hy >= 0) & (hy < h) & (hx >= 0) & (hx < w)
            hv = np.zeros(hys.size, bool)
            hv[hin] = known[hy[hin], hx[hin]]
            if v.sum() < 0.5 * rys.size or hv.mean() < 0.25:
                continue
            diff = ref[v] - img[sy_[v], sx_[v]].astype(np.float32)
            err = (diff**2).sum(1).mean() / (3 * 255.0**2) + 0.01 * (1 - hv.mean())
            if err < best:
                best, best_d = err, (cx, cy)
    return best_d


def _diffuse(
    crop: np.ndarray, known: np.ndarray, hole: np.ndarray, f: float, out: np.ndarray
) -> None:
    """Write into `out` ((H, W, 3) float32) at `hole` the crop inpainted by diffusion
    (Telea) from `known`, at the reduced scale `f`, in the box around the hole."""
    h, w = known.shape
    ys, xs = np.nonzero(hole)
    if ys.size == 0:
        return
    m = max(8, round(12 / f))
    y0, y1 = max(0, ys.min() - m), min(h, ys.max() + 1 + m)
    x0, x1 = max(0, xs.min() - m), min(w, xs.max() + 1 + m)
    kn = known[y0:y1, x0:x1]
    if not kn.any():
        y0, y1, x0, x1 = 0, h, 0, w
        kn = known
    sub = crop[y0:y1, x0:x1]
    bh, bw = kn.shape
    size = (max(4, round(bw * f)), max(4, round(bh * f)))
    small = cv2.resize(sub, size, interpolation=cv2.INTER_AREA)
    kn_s = cv2.resize(kn.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    known_s = kn_s > 0.999
    if not known_s.any():
        known_s = kn_s > 0.5
    if not known_s.any():
        fill = push_pull_fill(sub.astype(np.float32), kn.astype(np.float32))
        out[ys, xs] = fill[ys - y0, xs - x0]
        return
    # Only unknown pixels near the hole are inpainted (the cost grows with their number);
    # beyond that band what is not known is far enough not to matter much.
    target = cv2.resize(hole[y0:y1, x0:x1].astype(np.uint8), size, interpolation=cv2.INTER_AREA)
    near = cv2.distanceTransform((target == 0).astype(np.uint8), cv2.DIST_L2, 3) <= 8
    mask = (~known_s & near).astype(np.uint8)
    # What lies beyond it is given a smooth guess from the known pixels (its own colours,
    # the old clothes', must not creep in).
    guess = push_pull_fill(small.astype(np.float32), known_s.astype(np.float32))
    small = np.where(known_s[..., None], small, np.clip(guess, 0, 255)).astype(np.uint8)
    filled_s = cv2.inpaint(small, mask, 2, cv2.INPAINT_TELEA).astype(np.float32)
    # Sampled back at the hole's pixels only (bilinear, as a resize would).
    fy, fx = size[1] / bh, size[0] / bw
    gy = np.clip((ys - y0 + 0.5) * fy - 0.5, 0, size[1] - 1).astype(np.float32)
    gx = np.clip((xs - x0 + 0.5) * fx - 0.5, 0, size[0] - 1).astype(np.float32)
    out[ys, xs] = _sample(filled_s, gx, gy)


def _sample(img: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """(N, C) bilinear samples of an (h, w, C) float32 image at (N,) float32 points."""
    n = gx.size
    width = 4096  # cv2.remap takes maps under 32767 px a side
    rows = max(1, -(-n // width))
    mx = np.zeros(rows * width, np.float32)
    my = np.zeros(rows * width, np.float32)
    mx[:n], my[:n] = gx, gy
    out = cv2.remap(img, mx.reshape(rows, width), my.reshape(rows, width), cv2.INTER_LINEAR)
    return out.reshape(rows * width, -1)[:n]


@functools.lru_cache(maxsize=1)
def _noise_tile() -> np.ndarray:
    """(256, 256) float32 fine grain, std 1: white noise blurred a little (a photo's grain
    is a pixel or two across), fixed so renders are reproducible."""
    noise = np.random.default_rng(1234).standard_normal((256, 256), dtype=np.float32)
    big = cv2.GaussianBlur(np.tile(noise, (3, 3)), (0, 0), 0.7)  # seamless when tiled
    noise = big[256:512, 256:512]
    return (noise / noise.std()).astype(np.float32)


def _grain_noise(box: tuple[int, int, int, int], std: float) -> np.ndarray:
    """(y1 - y0, x1 - x0) float32 grain of `std` for the box (y0, y1, x0, x1), tiled."""
    y0, y1, x0, x1 = box
    tile = _noise_tile()
    ys = np.arange(y0, y1) % tile.shape[0]
    xs = np.arange(x0, x1) % tile.shape[1]
    return tile[ys[:, None], xs[None, :]] * np.float32(std)


def _bbox(mask: np.ndarray, margin: int = 0) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of a mask's true pixels grown by `margin`, clipped; None if empty."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return None
    h, w = mask.shape
    return (
        max(0, rows[0] - margin),
        min(h, rows[-1] + 1 + margin),
        max(0, cols[0] - margin),
        min(w, cols[-1] + 1 + margin),
    )


def _disc(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))

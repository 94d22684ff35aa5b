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
- Skin: the person's own skin colour (the base of the neck for the torso, the visible
  arms away from the hands for the arms) on a rounded body (each arm and the torso
  darker towards its own outline, the arms in front, the torso in their shade beside
  them; the arms as wide as they show below the old sleeves), lit like the photo (the
  low frequency of the old clothes' light, the face's left-right light), the chin's
  shadow on the neck, the photo's grain, and blended into the visible skin at its edges
  (which fade into it over a few pixels: the old garment's contact shadow lay there).
- Lower garment: the visible skirt or trousers mirrored upwards about one line along
  their top edge, so the print continues, up to their waistband (`waistband_level`:
  above it a shorter new top uncovers the midriff); diffusion where the mirror finds
  none of it, and for plain ones (leggings), whose mirrored thighs would stripe the waist.
- Skin the parser labelled as the old clothes (along the arms, at the neck, also a neck
  in the chin's shadow, by its chromaticity) is kept.

Cost: about 1.5 times the blur fill it replaces (most of it at a reduced resolution where
a shoulder is `_WORK_SHOULDER` px wide; the shift search only runs on textured surroundings).
At full resolution per-pixel work goes to OpenCV where it can (numpy's passes over a
photo's channels cost several times more): one CIELAB conversion of the crop serves every
colour decision, label sets are lookup tables, reduced layers are sampled only over the
box of the pixels they fill, and the grain is measured on bands of a large area.

Arrays: images (H, W, 3) uint8 RGB or float32 0..255; masks (H, W) bool.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from vton.geometry.capsules import capsule_mask, disc, nearest_on_segments
from vton.person.labels import LIP
from vton.render.body import ARM_HALF, Body, arm_segments
from vton.render.shading import luminance, push_pull_fill, soft_shadow

__all__ = [
    "arm_capsules",
    "bare_body",
    "is_label",
    "label_table",
    "removal_region",
    "remove_old_clothes",
    "skin_layer",
    "waistband_level",
]

HEAD = (LIP["hat"], LIP["hair"], LIP["sunglasses"], LIP["face"])
#: The torso's skin colour is read on the neck from this far above the shoulder line down
#: (shoulder widths): its base, out of the chin's shadow.
NECK_BASE = 0.15
#: The torso's skin beside an arm hanging in front of it is in the arm's shade: this much
#: darker at the arm's edge, fading over this reach (shoulder widths).
ARM_SHADE, ARM_SHADE_REACH = 0.12, 0.04
#: An arm is a cylinder: lit this much at its outline (of the centre's), rounding up to
#: full light over this depth (shoulder widths, about its radius). A flatter profile
#: (the torso's 0.82 over 0.12) drew bare arms as flat slabs where long sleeves were.
ARM_EDGE_LIGHT, ARM_ROUND = 0.68, 0.1
#: A removed sleeve's light across its arm carried onto the skin under it: this share of
#: its log luminance profile, measured in this many bands across each arm segment.
ARM_PHOTO_LIGHT, ARM_LIGHT_BANDS = 0.6, 9
#: The bare body's shoulder line starts at the side of the neck this far (shoulder
#: widths) above the seams' level: a flatter line left a wedge of background between the
#: neck and the shoulders where a crew neck's collar was removed.
SHOULDER_RISE = 0.15
#: ... and ends above the shoulder joints (half-widths of the shoulders, from the body's
#: axis), where the arms' capsules round the shoulders off.
SHOULDER_HALF = 0.5
#: The bare body reaches this far down (torso lengths from the shoulders): below the hips
#: it is the legs in the lower clothes, and a long old top's hem removed there is
#: trousers or skirt (it was a band of background across the legs at 1.05).
BARE_TO = 1.4
#: The filled skin's outline against the filled background is smoothed over this (shoulder
#: widths, a Gaussian's sigma): it is where the old sleeve's labelled outline was, and a
#: parse made at a lower resolution steps like a staircase there.
SKIN_OUTLINE_SMOOTH = 0.02
#: ... and antialiased over this (shoulder widths): a photographed arm's edge is a pixel
#: or two of blend into the background, not a cut.
SKIN_EDGE_SOFT = 0.005
LOWER = (LIP["pants"], LIP["skirt"])
SKIN = (LIP["neck"], LIP["left-arm"], LIP["right-arm"])
ARMS = (LIP["left-arm"], LIP["right-arm"])


def label_table(ids: tuple[int, ...]) -> np.ndarray:
    """(256,) uint8 lookup table: 1 at the label ids, 0 elsewhere."""
    t = np.zeros(256, np.uint8)
    t[list(ids)] = 1
    return t


_T_HEAD = label_table(HEAD)
_T_LOWER = label_table(LOWER)
_T_SKIN = label_table(SKIN)
_T_SKIN_HEAD = label_table((*SKIN, *HEAD))
_T_ARMS = label_table(ARMS)
_T_NOT_OLD = label_table((*HEAD, *LOWER, *SKIN))
_T_LOWER_LEGS = label_table((*LOWER, LIP["left-leg"], LIP["right-leg"]))
#: Rec. 601 luma weights, for the luminance of pixel lists.
_LUMA = np.float32([0.299, 0.587, 0.114])
#: Weights of (L, a, b) in a distance to skin colour (lightness varies with the light).
_SKIN_W = np.array([0.5, 1.0, 1.0], np.float32)


def is_label(lab: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(H, W) bool: where the (H, W) label map has one of `table`'s ids (`np.isin`, by a
    lookup table: many times faster)."""
    if lab.dtype == np.uint8:
        return cv2.LUT(lab, table).view(bool)
    return np.isin(lab, np.flatnonzero(table))


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
#: About how many pixels the grain is measured on.
_GRAIN_PX = 40000


def bare_body(
    body: Body,
    seam_level: float,
    shape: tuple[int, int],
    origin: np.ndarray,
    arms: list | None = None,
) -> np.ndarray:
    """(H, W) bool over a crop at `origin`: where the person's bare body probably is under
    the clothes, from the keypoints alone (the clothes' outline says how loose they were,
    not where the body is): a neck, shoulders sloping from it to the seams, the torso at
    the keypoint estimate of its width down to the hips and on over the legs below them
    (`BARE_TO`), and the arms (`arms`, capsules (p, q, r) in the photo's pixels, such as
    `arm_capsules`' measured ones; the keypoint estimate without them)."""
    if arms is None:
        arms = arm_segments(body, 1.15)
    return _torso_poly(body, seam_level, shape, origin) | capsule_mask(shape, arms, origin)


#: An arm's half-width measured on the photo is kept within these shares of the keypoint
#: estimate (`ARM_HALF`): a parse's arm label can hold a sleeve's fringe or lose an edge.
ARM_MEASURED_RANGE = (0.6, 1.6)


def arm_capsules(
    body: Body, lab: np.ndarray, region: np.ndarray, origin: np.ndarray
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The arms' capsules (p, q, r) in the photo's pixels, four segments as
    `arm_segments`: where an arm shows (`lab`'s arm labels outside `region`, the removal)
    its half-width and its centre line across the bone are measured on it, bin by bin
    along the segment (the median of each bin's outermost pixels); a segment hidden by
    the old sleeves takes its width from the other one of the same arm in the keypoint
    estimate's proportion, else the estimate itself.

    The estimate (`ARM_HALF` of the shoulder width, grown by 0.15) is one build for
    everyone: on a slim person the upper arm filled where a loose sleeve was came out
    as wide as the sleeve, a boxy slab, and on a heavy one narrower than the forearm."""
    sw = body.sw
    visible = is_label(lab, _T_ARMS) & ~region
    lo, hi = ARM_MEASURED_RANGE
    out = []
    for joint, elbow, wrist in body.arms.values():
        segs = [(joint, elbow), (elbow, wrist)]
        est = [ARM_HALF[1] * sw, ARM_HALF[2] * sw]
        found: list[tuple[float, float] | None] = []
        for (p, q), r0 in zip(segs, est, strict=True):
            found.append(_measure_limb(visible, p, q, r0, origin, wrist, sw))
        for k, (p, q) in enumerate(segs):
            r0, m, other = est[k], found[k], found[1 - k]
            if m is None and other is not None:
                m = (other[0] * est[k] / est[1 - k], 0.0)
            if m is None:
                out.append((p, q, 1.15 * r0))
                continue
            half = float(np.clip(m[0], lo * r0, hi * r0))
            d = np.asarray(q, np.float64) - np.asarray(p, np.float64)
            normal = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
            shift = normal * float(np.clip(m[1], -0.5 * r0, 0.5 * r0))
            out.append((p + shift, q + shift, half + 1.0))
    return out


def _measure_limb(
    visible: np.ndarray,
    p: np.ndarray,
    q: np.ndarray,
    r0: float,
    origin: np.ndarray,
    wrist: np.ndarray,
    sw: float,
) -> tuple[float, float] | None:
    """(half-width, centre offset across the segment p->q, px) of the limb's visible
    pixels (`visible`, (H, W) bool, on a crop at `origin`) within twice the estimate `r0`
    of the segment, away from the hand; None where too little of it shows."""
    h, w = visible.shape
    reach = 2.0 * r0
    a, b = np.asarray(p, np.float64) - origin, np.asarray(q, np.float64) - origin
    x0, x1 = int(max(0, min(a[0], b[0]) - reach)), int(min(w, max(a[0], b[0]) + reach + 1))
    y0, y1 = int(max(0, min(a[1], b[1]) - reach)), int(min(h, max(a[1], b[1]) + reach + 1))
    if x1 <= x0 or y1 <= y0:
        return None
    # every k-th pixel each way: about a hundred across the shoulders is plenty for a
    # width read from percentiles
    k = max(1, int(sw // 100))
    ys, xs = np.nonzero(visible[y0:y1:k, x0:x1:k])
    if ys.size * k * k < 30:
        return None
    pts = np.stack([xs * k + x0, ys * k + y0], 1).astype(np.float32) + origin.astype(np.float32)
    _, u, off = nearest_on_segments(pts, [(p, q)])
    d = np.asarray(q, np.float32) - np.asarray(p, np.float32)
    normal = np.float32([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
    across = off @ normal
    near_hand = np.hypot(*(pts - np.asarray(wrist, np.float32)).T) < 0.12 * sw
    keep = (np.abs(across) < reach) & (u > 0.05) & (u < 0.95) & ~near_hand
    if keep.sum() * k * k < 30:
        return None
    u, across = u[keep], across[keep]
    halves, mids = [], []
    for b in range(10):
        sel = across[(u >= b / 10) & (u < (b + 1) / 10)]
        if sel.size * k < 6:
            continue
        a_lo, a_hi = np.percentile(sel, (3, 97))
        # an edge at the search's reach is not the arm's (the torso's skin beside it)
        if a_hi - a_lo >= 2 * reach * 0.95:
            continue
        halves.append((a_hi - a_lo) / 2)
        mids.append((a_hi + a_lo) / 2)
    if len(halves) < 3:
        return None
    return float(np.median(halves)), float(np.median(mids))


def _torso_poly(
    body: Body, seam_level: float, shape: tuple[int, int], origin: np.ndarray, f: float = 1.0
) -> np.ndarray:
    """(H, W) bool: the neck, shoulders and torso of `bare_body`, drawn at scale `f`."""
    sw = body.sw
    top = seam_level
    # The neck; its base, where the shoulders' line starts well above the seams (the side
    # of the neck sits about a sixth of a shoulder width above the shoulder joints); the
    # shoulders' convex slope out to above the joints, where the arms' round ends take
    # over (`bare_body`): a corner out at the garments' seams drew square shoulders
    # where an old top's shoulders had stood; the torso.
    rise = SHOULDER_RISE * sw
    levels = np.concatenate(
        [
            [top - 0.45 * sw, top - rise - 0.01 * sw, top - rise, top - 0.45 * rise],
            np.linspace(top, body.torso_len * BARE_TO, 8),
        ]
    )
    half = body.width_model(levels)
    half[:5] = np.array([0.16, 0.16, 0.24, 0.42, SHOULDER_HALF]) * sw
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
    crop: np.ndarray,
    lab: np.ndarray,
    old: np.ndarray,
    body: Body,
    origin: np.ndarray,
    cie: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """`removal_region`, and the old clothes with what they enclose (classified by the
    body model like the clothes themselves, not by their own labels). `cie`: the crop in
    CIELAB (`_cielab`), when the caller has it already."""
    sw = body.sw
    if cie is None:
        cie = _cielab(crop)
    head = is_label(lab, _T_HEAD)
    skin_lab = is_label(lab, _T_SKIN)
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
            free = ~is_label(lab[by0:by1, bx0:bx1], _T_NOT_OLD)
            reg = region[by0:by1, bx0:bx1]
            idx = np.flatnonzero(inner)
            if idx.size <= 32:  # a few buttons: each in its own box (no full-box gather)
                for i in idx:
                    ys_ = slice(y[i], y[i] + ch[i])
                    xs_ = slice(x[i], x[i] + cw[i])
                    reg[ys_, xs_] |= (comp[ys_, xs_] == i) & free[ys_, xs_]
            else:
                reg |= inner[comp] & free
    # A long sleeve the parser called the skirt or trousers below the elbow (a dress's
    # sleeve hangs beside its own skirt): part of the old clothes.
    region |= _sleeves_called_lower(lab, old, body, origin)
    enclosed = region.copy()
    # The anti-aliased fringe.
    # (Into skin by more than a couple of pixels only where it is not skin-coloured:
    # skin there is the person's, a button or a speckle of sleeve is not.)
    r = max(3, round(_FRINGE * sw))
    region_u8 = region.view(np.uint8)
    grown = cv2.dilate(region_u8, disc(r)).view(bool) & ~head
    ref_skin = _median_lab(cie, lab == LIP["face"])
    if ref_skin is not None:
        near = cv2.dilate(region_u8, disc(2)).view(bool)
        ys, xs = np.nonzero(grown & ~near & skin_lab)
        if ys.size:
            d_skin = _dist(cie[ys, xs], ref_skin, _SKIN_W)
            keep = d_skin <= 14
            refs = _shade_refs(crop, lab == LIP["face"], old)
            keep[~keep] = _shaded_skin(crop[ys[~keep], xs[~keep]], refs)
            grown[ys[keep], xs[keep]] = False
    region |= grown
    # Pixels of the old clothes' colour next to them, or along the arms.
    region |= _colour_additions(crop, cie, lab, old, region, body, origin, ref_skin)
    # The fringe of what the colours added.
    added = region & ~grown
    if added.any():
        region |= cv2.dilate(added.view(np.uint8), disc(2)).view(bool) & ~head
    return region, enclosed


#: An old sleeve reaches the elbow when it covers this share of the upper arm's last
#: two fifths (a capsule of 0.6 of the arm's width along it).
_SLEEVE_TO_ELBOW = 0.5


def _sleeves_called_lower(
    lab: np.ndarray, old: np.ndarray, body: Body, origin: np.ndarray
) -> np.ndarray:
    """(H, W) bool: the lower clothes' label along a forearm (elbow to wrist, 1.4 times
    its width) whose upper arm the old clothes cover down to the elbow: a long sleeve,
    continued below the elbow under the wrong label. A bare forearm in front of a skirt is
    labelled arm, so it is never taken."""
    out = np.zeros(lab.shape, bool)
    lower = is_label(lab, _T_LOWER)
    if not lower.any():
        return out
    for joint, elbow, wrist in body.arms.values():
        near = joint + 0.6 * (elbow - joint)
        r = ARM_HALF[1] * body.sw
        upper = capsule_mask(lab.shape, [(near, elbow, 0.6 * r)], origin)
        if not upper.any() or old[upper].mean() < _SLEEVE_TO_ELBOW:
            continue
        fore = capsule_mask(lab.shape, [(elbow, wrist, 1.4 * ARM_HALF[2] * body.sw)], origin)
        out |= fore & lower
    return out


def _colour_additions(
    crop: np.ndarray,
    cie: np.ndarray,
    lab: np.ndarray,
    old: np.ndarray,
    region: np.ndarray,
    body: Body,
    origin: np.ndarray,
    ref_skin: np.ndarray | None,
) -> np.ndarray:
    """(H, W) bool: what `_grow_old` adds to `region` for its colour: pixels of the old
    clothes' colour next to them (a sleeve's edge labelled arm or background) or along the
    arms (a sleeve labelled skirt), connected to the region. `cie`: the crop in CIELAB;
    `ref_skin`: the face's median CIELAB (None without a face)."""
    h, w = lab.shape
    sw = body.sw
    head = is_label(lab, _T_HEAD)
    lower = is_label(lab, _T_LOWER)
    region = region.copy()
    start = region.copy()
    ref_old = _median_lab(cie, old)
    # Distances from the region (one transform serves both bands below).
    dist_out = cv2.distanceTransform((~region).view(np.uint8), cv2.DIST_L2, 3)
    band = dist_out <= max(2, round(_COLOUR_BAND * sw))
    cand = band & ~region & ~head & ~lower
    if cand.any():
        ys, xs = np.nonzero(cand)
        px = cie[ys, xs]
        d_old = _dist(px, ref_old)
        own = np.full(ys.size, 1e3, np.float32)
        lbls = lab[ys, xs]
        # Pixels of each label away from the band: all of them less those in it.
        n_away = _label_counts(lab) - _label_counts(lab, band)
        away_u8 = (~band).view(np.uint8)
        for lbl in np.unique(lbls):
            # The label's own typical colour, away from the old clothes (a parser's
            # strip of sleeve called arm would otherwise be the arm's colour).
            n_l, ref = int(n_away[lbl]), None
            if n_l >= 20:
                k = _grid_step(n_l)
                if k == 1 and lab.dtype == np.uint8:  # all of them: masked by OpenCV
                    m = cv2.compare(lab, int(lbl), cv2.CMP_EQ)
                    pts = cv2.findNonZero(cv2.bitwise_and(m, away_u8)).reshape(-1, 2)
                    ref = np.median(cie[pts[:, 1], pts[:, 0]], axis=0)
                else:
                    sub_ = (lab[::k, ::k] == lbl) & ~band[::k, ::k]
                    ref = _median_on_grid(cie, sub_, k, lambda v=lbl: (lab == v) & ~band)
            if ref is None:
                ref = _median_lab(cie, (lab == lbl) & ~region)
            if ref is not None:
                at = lbls == lbl
                own[at] = _dist(px[at], ref)
        take = (d_old < _OLD_DE) & (d_old < 0.8 * own)
        if ref_skin is not None:
            # Never the person's skin (lit skin can be near a white top's colour).
            skin_px = np.isin(lbls, SKIN)
            d_skin = _dist(px[skin_px], ref_skin, _SKIN_W)
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
    if cand.any() and np.count_nonzero(src_low) >= 50:
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
        ref_low = _median_lab(cie, src_low)
        if ref_low is not None:
            px = cie[ys, xs]
            d_old = _dist(px, ref_old)
            d_low = _dist(px, ref_low)
            sleeve_like = (d_old < 1.5 * _OLD_DE) & (d_old < 0.6 * d_low)
            for fore in forearms:
                at = fore[ys, xs]
                if at.sum() >= 20 and sleeve_like[at].mean() > 0.5:
                    sel[at] |= sleeve_like[at]
        like = np.zeros((h, w), np.uint8)
        like[ys[sel], xs[sel]] = 1
        like = cv2.morphologyEx(like, cv2.MORPH_CLOSE, disc(2)).view(bool) & cand
        box = _bbox(like)
        if box is not None:
            n, comp = cv2.connectedComponents((region | like).view(np.uint8))
            # The components holding region pixels: those next to what is added (8-connected
            # like the components) are enough, as `like` and the region do not overlap.
            touch = cv2.dilate(like.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
            keep = np.zeros(n, bool)
            keep[comp[touch & region]] = True
            keep[0] = False
            y0, y1, x0, x1 = box
            region[y0:y1, x0:x1] |= like[y0:y1, x0:x1] & keep[comp[y0:y1, x0:x1]]
    return region & ~start


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
    region (`removal_region`) keep the crop's values exactly, except the visible skin
    within `SEAM_BAND` of the skin filled in it, which fades into the fill (the old
    garment's contact shadow lies there)."""
    out = crop.astype(np.float32)
    if not old.any():
        return out
    h, w = lab.shape
    sw = body.sw
    cie = _cielab(crop)
    # Skin the parser called clothes (an arm's edge, a neckline) is the person's own.
    bare_skin = _skin_in_old(crop, lab, old, body, origin, cie)
    if bare_skin.any():
        old = old & ~bare_skin
        lab = lab.copy()
        lab[bare_skin] = LIP["left-arm"]
        if not old.any():
            return out
    region, enclosed = _grow_old(crop, lab, old, body, origin, cie)
    region &= ~_specks_in_skin(region, lab, body, origin)
    arms = arm_capsules(body, lab, region, origin)
    bare = bare_body(body, seam_level, (h, w), origin, arms)
    level = body.levels((h, w), origin)
    lower_lab = is_label(lab, _T_LOWER)
    skin_lab = is_label(lab, _T_SKIN)
    # Old pixels: by the body model; pixels taken with them: by their own label, except
    # a "lower" sleeve along an arm, which is skin.
    arm_caps = capsule_mask((h, w), arms, origin)
    in_old = enclosed | ~(lower_lab | skin_lab | (lab == 0)) & region
    # Between a shorter new top's hem and the lower clothes' waistband the midriff shows:
    # the old top hid the waistband, not the trousers up to wherever the new top ends
    # (jeans drawn up to a crop top's hem read as a jumpsuit).
    below = level > max(hem_level, waistband_level(lower_lab, level, body, origin, hem_level))
    # An arm is skin wherever it is, also below a shorter new top's hem (a forearm in
    # front of the trousers is not trousers).
    skin = region & (
        (in_old & bare & (~below | arm_caps))
        | (~in_old & skin_lab)
        | (~in_old & lower_lab & arm_caps)
    )
    # Below the new hem the old top covered the lower clothes, unless the person's midriff
    # showed under it (a crop top): old pixels above bare torso skin are that skin.
    skin |= region & _above_midriff(lab, in_old & bare & below & ~arm_caps)
    lower = region & ~skin & ((in_old & bare & below) | (~in_old & lower_lab))
    skin, alpha = _smooth_skin_outline(skin, region & ~lower, lab > 0, sw)
    bg = region & ~skin & ~lower
    # Under the skin's soft edge the background is filled too: the edge blends into it.
    under = skin & (alpha < 1.0)
    f = min(1.0, _WORK_SHOULDER / sw)
    box = _bbox(skin)
    vals = None
    if box is not None:
        # (The skin is computed from the photo before any fill is written.)
        skin_s, grain = _skin_small(out, lab, region, bare, body, origin, f, arms)
        vals = _skin_at(skin_s, (h, w), box, grain)
    if lower.any():
        _lower_fill(crop, lab, region, lower, sw, f, out)
    if bg.any():
        _background_fill(crop, lab, region, bg | under, sw, f, out)
    if vals is not None:
        y0, y1, x0, x1 = box
        a = alpha[y0:y1, x0:x1, None]
        o = out[y0:y1, x0:x1]
        np.copyto(o, o + (vals - o) * a, where=skin[y0:y1, x0:x1, None])
        _blend_skin_seam(out, skin, skin_lab & ~region, skin_s, sw)
    return out


#: The visible skin within this of the skin fill (shoulder widths) fades into it.
SEAM_BAND = 0.025


def _blend_skin_seam(
    out: np.ndarray,
    filled: np.ndarray,
    visible: np.ndarray,
    skin_s: np.ndarray,
    sw: float,
) -> None:
    """Fade the visible skin (`visible`, (H, W) bool) into the skin fill (`filled`) over
    `SEAM_BAND` from their boundary, in place in `out` ((H, W, 3) float32); `skin_s` is
    the reduced skin layer the fill was sampled from. The skin at an old garment's edge
    is in its contact shadow (a darker line where an open collar lay on the neck, or a
    sleeve's hem on the arm), and the parse's outline there is a staircase: kept as
    photographed, both drew a ragged dark line where the garment had been."""
    band = max(1.5, SEAM_BAND * sw)
    m = int(np.ceil(band)) + 1
    box = _bbox(filled, m)
    if box is None:
        return
    # (only where visible skin is: the neck and the arms, not the whole fill)
    vbox = _bbox(visible[box[0] : box[1], box[2] : box[3]], m)
    if vbox is None:
        return
    y0, x0 = box[0] + vbox[0], box[2] + vbox[2]
    y1, x1 = box[0] + vbox[1], box[2] + vbox[3]
    vis = visible[y0:y1, x0:x1]
    d = cv2.distanceTransform((~filled[y0:y1, x0:x1]).view(np.uint8), cv2.DIST_L2, 3)
    ys, xs = np.nonzero(vis & (d < band))
    if ys.size == 0:
        return
    # the fill's values there, sampled as `_skin_at` does (the photo's grain is in the
    # skin it blends with)
    sh, sw_ = skin_s.shape[:2]
    gy = np.clip((ys + y0 + 0.5) * (sh / out.shape[0]) - 0.5, 0, sh - 1).astype(np.float32)
    gx = np.clip((xs + x0 + 0.5) * (sw_ / out.shape[1]) - 0.5, 0, sw_ - 1).astype(np.float32)
    vals = _sample(skin_s, gx, gy)
    wgt = (1.0 - d[ys, xs] / band)[:, None]
    py, px = ys + y0, xs + x0
    out[py, px] += (vals - out[py, px]) * wgt


#: Where the waistband of the lower clothes is, when an old top hid it (torso lengths from
#: the shoulder line): at most this far above their visible top edge (an untucked top
#: covers a few centimetres of the trousers) ...
WAIST_HIDDEN = 0.12
#: ... and no higher than this (a rise the models' visible waistbands in catalog photos
#: reach, from 0.57 for high-waisted trousers to 0.9 for men's jeans; an untucked top's
#: hem at the hips says nothing of how high the trousers come).
WAIST_LEVEL = 0.8


def waistband_level(
    lower: np.ndarray, level: np.ndarray, body: Body, origin: np.ndarray, default: float
) -> float:
    """Level (px along the body axis) of the lower clothes' waistband: the median level of
    their visible top edge in the columns of the torso's middle (`lower`: (H, W) bool,
    the lower clothes' labels; `level`: `Body.levels` of the crop at `origin`), raised by
    the part an old top may have hidden (`WAIST_HIDDEN`, not above `WAIST_LEVEL`); or
    `default` where no lower clothes show there (a dress, a photo cut at the waist)."""
    t = body.torso_len
    centre = body.centre(np.array([WAIST_LEVEL * t]))[0]
    xs = np.arange(lower.shape[1], dtype=np.float32) + np.float32(origin[0])
    core = np.abs(xs - np.float32(centre[0])) < 0.25 * body.sw
    if not core.any():
        return default
    lv = level[:, core]
    top = np.where(lower[:, core] & (lv > 0.3 * t), lv, np.inf).min(axis=0)
    top = top[np.isfinite(top)]
    if top.size < 3:
        return default
    seen = float(np.median(top))
    return min(seen, max(WAIST_LEVEL * t, seen - WAIST_HIDDEN * t))


#: A part of the removal region above the shoulders smaller than this (shoulder widths
#: squared) and ringed by skin is a speck of a shaded neck the parser called clothes.
SPECK_AREA = 0.004


def _specks_in_skin(
    region: np.ndarray, lab: np.ndarray, body: Body, origin: np.ndarray
) -> np.ndarray:
    """(H, W) bool: the small parts of `region` above the shoulders, apart from the rest
    of it and ringed mostly by skin or the head (long hair falls beside a neck): flecks
    of a neck in the chin's shadow that a parser calls the shirt. Filled, each became a
    pale fleck of the chest's colour on the dark neck; left as photographed they are the
    neck. (An old collar is a band joined to its garment, not a fleck.)"""
    out = np.zeros(region.shape, bool)
    sw = body.sw
    top = body.shoulder_mid - 0.6 * sw * body.axis - origin
    bottom = body.shoulder_mid + 0.1 * sw * body.axis - origin
    # (clipped to the crop: a negative end would slice from the far side)
    y0, y1 = (max(0, round(v)) for v in (min(top[1], bottom[1]), max(top[1], bottom[1])))
    x0 = max(0, round(body.shoulder_mid[0] - origin[0] - 0.4 * sw))
    x1 = max(0, round(body.shoulder_mid[0] - origin[0] + 0.4 * sw))
    sub = region[y0:y1, x0:x1]
    if sub.size == 0 or not sub.any():
        return out
    _, comp, stats, _ = cv2.connectedComponentsWithStats(sub.view(np.uint8), connectivity=8)
    small = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] < SPECK_AREA * sw * sw) + 1
    if small.size == 0:
        return out
    skin = is_label(lab[y0:y1, x0:x1], _T_SKIN_HEAD) & ~sub
    ring_k = np.ones((3, 3), np.uint8)
    for i in small[:64]:
        x, y, cw, ch = stats[i, :4]
        bx0, by0 = max(0, x - 2), max(0, y - 2)
        bx1, by1 = min(sub.shape[1], x + cw + 2), min(sub.shape[0], y + ch + 2)
        me = comp[by0:by1, bx0:bx1] == i
        ring = cv2.dilate(me.view(np.uint8), ring_k, iterations=2).view(bool) & ~me
        if ring.any() and skin[by0:by1, bx0:bx1][ring].mean() >= 0.7:
            out[y0 + by0 : y0 + by1, x0 + bx0 : x0 + bx1] |= me
    return out


def _above_midriff(lab: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels of `cand` (old clothes below the new hem) whose column
    goes on below them, past the rest of the old clothes, into bare torso skin (the
    parse's neck-and-skin label) rather than the lower clothes: the old top was a crop
    top, and its lower edge hid the midriff, not a waistband."""
    out = np.zeros(cand.shape, bool)
    rows = np.flatnonzero(cand.any(axis=1))
    if rows.size == 0:
        return out
    neck = lab == LIP["neck"]
    ya = int(rows[0])
    if not neck[ya:].any():
        return out
    cols = np.flatnonzero(cand.any(axis=0))
    xa, xb = int(cols[0]), int(cols[-1]) + 1
    lab_b, cand_b = lab[ya:, xa:xb], cand[ya:, xa:xb]
    old_b = cand_b | ~(neck[ya:, xa:xb] | is_label(lab_b, _T_LOWER) | (lab_b == 0))
    # What each column holds below the old clothes there: the label of the first pixel
    # at or below each one that is not old clothes (its row, from the bottom up).
    n = lab_b.shape[0]
    rows_b = np.arange(n)[:, None]
    first = np.minimum.accumulate(np.where(old_b, n, rows_b)[::-1], axis=0)[::-1]
    seen = first < n
    cols_b = np.broadcast_to(np.arange(xb - xa), first.shape)
    skin_below = seen & (lab_b[np.minimum(first, n - 1), cols_b] == LIP["neck"])
    out[ya:, xa:xb] = cand_b & skin_below
    return out


def _smooth_skin_outline(
    skin: np.ndarray, free: np.ndarray, person: np.ndarray, sw: float
) -> tuple[np.ndarray, np.ndarray]:
    """The skin to fill with its outline against the background smoothed, and its opacity.

    skin: (H, W) bool, skin as the labels decide it (inside `free`); free: (H, W) bool, the
    removed pixels that are skin or background (not lower clothes), the only ones that may
    change side; person: (H, W) bool, the labelled person, whose pixels outside the
    removal count as skin's side (the fill meets the visible arm or neck there without a
    notch). Returns the skin (H, W) bool and alpha (H, W) float32: 1 inside, about 0.5 at
    the outline against the filled background; opaque where it meets anything else.
    """
    alpha = np.ones(skin.shape, np.float32)
    sig = max(0.7, SKIN_OUTLINE_SMOOTH * sw)
    box = _bbox(free, round(3 * sig) + 2)
    if box is None or not skin.any():
        return skin, alpha
    y0, y1, x0, x1 = box
    fr, sk = free[y0:y1, x0:x1], skin[y0:y1, x0:x1]
    side = (sk | (person[y0:y1, x0:x1] & ~fr)).astype(np.float32)
    smooth = cv2.GaussianBlur(side, (0, 0), sig) >= 0.5
    new = skin.copy()
    new[y0:y1, x0:x1] = fr & smooth
    # The outline against the background blends over a pixel or two: the blur of the
    # skin's side (the skin and everything that is not the background fill).
    opaque = (new[y0:y1, x0:x1] | ~fr).astype(np.float32)
    soft = cv2.GaussianBlur(opaque, (0, 0), max(0.5, SKIN_EDGE_SOFT * sw))
    alpha[y0:y1, x0:x1] = np.where(new[y0:y1, x0:x1], soft, 1.0)
    return new, alpha


def _skin_in_old(
    crop: np.ndarray,
    lab: np.ndarray,
    old: np.ndarray,
    body: Body,
    origin: np.ndarray,
    cie: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W) bool: pixels labelled as the old clothes, along the arms or at the neck,
    that have the person's skin colour and not the clothes' (a parser's outline rarely
    follows an arm exactly): near the face's colour, or its chromaticity in shade
    (`_shaded_skin`: the chin's shadow darkens a neck far below the lit face, and a
    parser calls such a neck's lower part the shirt more often than a lit one)."""
    h, w = lab.shape
    if cie is None:
        cie = _cielab(crop)
    face = lab == LIP["face"]
    ref_skin = _median_lab(cie, face) if np.count_nonzero(face) >= 50 else None
    if ref_skin is None:
        return np.zeros((h, w), bool)
    zone = capsule_mask((h, w), arm_segments(body, 1.4), origin)
    top = body.shoulder_mid - 0.5 * body.sw * body.axis
    neck = (top - origin, body.shoulder_mid - origin, 0.25 * body.sw)
    zone |= capsule_mask((h, w), [neck], None)
    cand = old & zone
    ref_old = _median_lab(cie, old & ~cand)
    box = _bbox(cand, 12)  # the filters below reach 8 px: the box keeps them exact
    if ref_old is None or box is None or np.linalg.norm(ref_old - ref_skin) < 20:
        return np.zeros((h, w), bool)
    y0, y1, x0, x1 = box
    cand_b = cand[y0:y1, x0:x1]
    px = cie[y0:y1, x0:x1]
    d2_skin = _dist2(px, ref_skin, _SKIN_W)
    d2_old = _dist2(px, ref_old)
    # Skin-coloured pixels, with the skin labelled as such around them (so that the
    # filter below does not eat the edge they share with it). (Squared distances.)
    sel = cand_b & (d2_skin < 14**2) & (d2_skin < 0.25 * d2_old)
    rest = np.nonzero(cand_b & ~sel)
    sel[rest] = _shaded_skin(crop[y0:y1, x0:x1][rest], _shade_refs(crop, face, old & ~cand))
    like = np.where(sel | is_label(lab[y0:y1, x0:x1], _T_SKIN), 255, 0).astype(np.uint8)
    like = cv2.medianBlur(like, 5)  # not single pixels of a print
    # ...nor holes in the skin: left as clothes, their fringe would eat into it.
    out = np.zeros((h, w), bool)
    out[y0:y1, x0:x1] = cv2.morphologyEx(like, cv2.MORPH_CLOSE, disc(3)).view(bool) & cand_b
    return out


#: Skin in shade (`_shaded_skin`): its chromaticity within this of the face's, at most
#: this share of its distance to the old clothes', at this share of the face's luminance
#: or more (darker pixels' chromaticity is noise).
SHADE_CHROMA, SHADE_VS_OLD, SHADE_MIN_LUM = 0.08, 0.4, 0.3


def _chromaticity(px: np.ndarray) -> np.ndarray:
    """(..., 2) float32 (r, g) / (r + g + b) of (..., 3) RGB pixels: what shade leaves."""
    p = px.astype(np.float32)
    return p[..., :2] / np.maximum(p.sum(-1, keepdims=True), 1.0)


def _shade_refs(
    crop: np.ndarray, face: np.ndarray, old: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """What `_shaded_skin` compares with: the chromaticity of the face (`face`, (H, W)
    bool over the (H, W, 3) RGB `crop`) and of the old clothes (`old`), and the face's
    luminance (medians, on every third pixel each way: a median needs no more); None
    without enough of either."""
    c = crop[::3, ::3]
    face_px, old_px = c[face[::3, ::3]], c[old[::3, ::3]]
    if face_px.shape[0] < 12 or old_px.shape[0] < 12:
        return None
    face_c = np.median(_chromaticity(face_px), axis=0)
    old_c = np.median(_chromaticity(old_px), axis=0)
    return face_c, old_c, float(np.median(face_px.astype(np.float32) @ _LUMA))


def _shaded_skin(px: np.ndarray, refs: tuple[np.ndarray, np.ndarray, float] | None) -> np.ndarray:
    """(...) bool: pixels `px` (..., 3) RGB (a crop or a list of pixels) that are the
    face's skin in shade, by `refs` (`_shade_refs`): its chromaticity, darker (down to
    `SHADE_MIN_LUM` of the face's median luminance), and much nearer the face's
    chromaticity than the old clothes'. The chin's shadow darkens a neck far below the
    lit face's colour, which a CIELAB distance to it calls clothes; a parser calls that
    neck the shirt too. All False without `refs`."""
    if refs is None or px.size == 0:
        return np.zeros(px.shape[:-1], bool)
    face_c, old_c, face_l = refs
    c = _chromaticity(px)
    d_face = np.linalg.norm(c - face_c, axis=-1)
    d_old = np.linalg.norm(c - old_c, axis=-1)
    lum = px.astype(np.float32) @ _LUMA
    return (
        (d_face < SHADE_CHROMA)
        & (d_face < SHADE_VS_OLD * d_old)
        & (lum >= SHADE_MIN_LUM * face_l)
        & (lum <= 1.05 * face_l)
    )


def _colour_bins(px: np.ndarray) -> np.ndarray:
    """(N,) histogram bin of (N, 3) uint8 RGB pixels: 8 levels a channel."""
    q = (px >> 5).astype(np.int64)
    return (q[:, 0] << 6) | (q[:, 1] << 3) | q[:, 2]


def _colour_density(crop: np.ndarray, where: np.ndarray) -> np.ndarray:
    """(512,) the colour histogram of `where` (a subsample of it), summing to 1, lightly
    spread to neighbouring bins of the same hue (a shade darker or lighter)."""
    idx = np.flatnonzero(where)
    step = max(1, idx.size // 20000)
    hist = np.bincount(_colour_bins(crop.reshape(-1, 3)[idx[::step]]), minlength=512)
    hist = hist.astype(np.float64).reshape(8, 8, 8)
    spread = hist.copy()
    # One level brighter or darker on every channel at once (no wrapping round).
    spread[1:, 1:, 1:] += 0.5 * hist[:-1, :-1, :-1]
    spread[:-1, :-1, :-1] += 0.5 * hist[1:, 1:, 1:]
    return (spread / max(spread.sum(), 1.0)).reshape(-1)


def _label_counts(lab: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """(256,) int64 pixel count of each label id (in `where` only, when given)."""
    if lab.dtype != np.uint8:
        sel = lab if where is None else lab[where]
        return np.bincount(sel.ravel(), minlength=256)[:256]
    mask = None if where is None else where.view(np.uint8)
    hist = cv2.calcHist([lab], [0], mask, [256], [0, 256])
    return hist.ravel().astype(np.int64)


def _cielab(crop: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W, 3) float32 CIELAB (L 0..100), once for all the
    colour decisions (converting the pixels each asks about, again and again, costs more)."""
    return cv2.cvtColor(crop.astype(np.float32) * np.float32(1 / 255.0), cv2.COLOR_RGB2Lab)


def _dist(px: np.ndarray, ref: np.ndarray, wts: np.ndarray | None = None) -> np.ndarray:
    """(...) float32 Euclidean distance of (..., 3) float32 CIELAB pixels to `ref` (3,),
    the channels weighted by `wts` (3,) when given (by OpenCV: numpy's passes over the
    channels cost several times more)."""
    return cv2.sqrt(_dist2(px, ref, wts).reshape(-1, 1)).reshape(px.shape[:-1])


def _dist2(px: np.ndarray, ref: np.ndarray, wts: np.ndarray | None = None) -> np.ndarray:
    """`_dist` squared."""
    wts = np.ones(3, np.float32) if wts is None else wts
    m = np.zeros((3, 4), np.float32)
    m[[0, 1, 2], [0, 1, 2]] = wts
    m[:, 3] = -wts * ref
    d = cv2.transform(np.ascontiguousarray(px).reshape(-1, 1, 3), m)
    sq = cv2.transform(cv2.multiply(d, d), np.ones((1, 3), np.float32))
    return sq.reshape(px.shape[:-1])


def _median_lab(cie: np.ndarray, where: np.ndarray) -> np.ndarray | None:
    """(3,) median CIELAB over `where` (a subsample of it), None for fewer than 20 px;
    `cie`: the crop in CIELAB (`_cielab`)."""
    n = int(np.count_nonzero(where))
    if n < 20:
        return None
    k = _grid_step(n)
    return _median_on_grid(cie, where[::k, ::k], k, lambda: where)


def _grid_step(n: int) -> int:
    """The step of a grid subsample that leaves about 2000 of `n` pixels (cheaper than all
    of them, for a median)."""
    return max(1, int(np.sqrt(n / 2000)))


def _median_on_grid(cie: np.ndarray, sub: np.ndarray, k: int, full) -> np.ndarray:
    """(3,) median CIELAB over `sub`, a mask on the grid of step `k`; over all of `full()`
    (the mask at full resolution) when the grid holds fewer than 20 of its pixels."""
    ys, xs = np.nonzero(sub)
    if ys.size < 20:
        ys, xs, k = *np.nonzero(full()), 1
    return np.median(cie[ys * k, xs * k], axis=0)


def skin_layer(
    crop_f: np.ndarray,
    lab: np.ndarray,
    region: np.ndarray,
    bare: np.ndarray,
    body: Body,
    origin: np.ndarray,
    f: float = 1.0,
    where: np.ndarray | None = None,
    arms: list | None = None,
) -> np.ndarray:
    """(H, W, 3) float32 0..255: the person's skin over the crop, where their clothes were;
    with `where` ((H, W) bool) only those pixels are computed, as (N, 3) in the order of
    `np.nonzero(where)` (the rest of a full layer would be thrown away).

    crop_f: (H, W, 3) float32 photo crop; lab: (H, W) LIP ids; region: (H, W) bool, what is
    removed (not a source of skin); bare: (H, W) bool, the body (`bare_body`); `f`: the
    reduced scale the smooth layers are computed at. The colour is the person's own (face
    and neck for the torso, the visible arms for the arms), on a rounded body lit like the
    photo, with the chin's shadow on the neck and the photo's grain, and offset at its
    edges to meet the visible skin without a seam. `arms`: the arms' capsules
    (`arm_capsules`; the keypoint estimate without them)."""
    h, w = lab.shape
    skin_s, grain = _skin_small(crop_f, lab, region, bare, body, origin, f, arms)
    if where is None:
        skin = cv2.resize(skin_s, (w, h), interpolation=cv2.INTER_LINEAR)
        box = _bbox(region, 2)
        if grain > 0.3 and box is not None:
            y0, y1, x0, x1 = box
            skin[y0:y1, x0:x1] += _grain_noise((y0, y1, x0, x1), 0.8 * grain)[..., None]
        return skin
    box = _bbox(where)
    if box is None:
        return np.zeros((0, 3), np.float32)
    y0, y1, x0, x1 = box
    return _skin_at(skin_s, (h, w), box, grain)[where[y0:y1, x0:x1]]


def _skin_small(
    crop_f: np.ndarray,
    lab: np.ndarray,
    region: np.ndarray,
    bare: np.ndarray,
    body: Body,
    origin: np.ndarray,
    f: float,
    arms: list | None = None,
) -> tuple[np.ndarray, float]:
    """`skin_layer` at the reduced scale `f`: ((h, w, 3) float32 0..255, the photo's grain
    (std, px values) to add at full resolution)."""
    if arms is None:
        arms = arm_segments(body, 1.15)
    h, w = lab.shape
    sw = body.sw
    # Colours are read at the reduced scale: medians need no more.
    size = (max(4, round(w * f)), max(4, round(h * f)))
    small = cv2.resize(crop_f, size, interpolation=cv2.INTER_AREA)
    lab_s = cv2.resize(lab, size, interpolation=cv2.INTER_NEAREST)
    bare_s = cv2.resize(bare.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    reg_s = cv2.resize(region.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    face = (lab_s == LIP["face"]) & ~reg_s
    neck_all = (lab_s == LIP["neck"]) & ~reg_s
    arms_all = np.isin(lab_s, ARMS) & ~reg_s
    neck, arms_vis = neck_all.copy(), arms_all.copy()
    # The skin the fill must meet at its edge.
    meet = neck_all | arms_all
    if face.sum() >= 12:
        # A parser's "arm" or "neck" holds sleeves and hair too: skin colours only.
        lab_px = cv2.cvtColor(np.clip(small, 0, 255) / np.float32(255), cv2.COLOR_RGB2Lab)
        ref = np.median(lab_px[face], axis=0)
        skin_like = np.linalg.norm((lab_px - ref) * np.float32((0.5, 1, 1)), axis=2) <= 14
        neck &= skin_like
        arms_vis &= skin_like
        # A lit chest is paler and less saturated than the face, yet it is the skin the fill
        # meets and the best sample of the torso's under the same light: skin's hue, some
        # chroma (unlike a white or grey garment's binding left at the edge), not as dark
        # as hair.
        meet &= _skin_hued(lab_px, ref)
    rows = (np.arange(size[1], dtype=np.float32) + 0.5) / f - 0.5 + float(origin[1])
    neck_base = meet & neck_all & (rows >= body.shoulder_mid[1] - NECK_BASE * sw)[:, None]
    hands = _hands(arms_vis.shape, body, origin, f)
    # Bare arms right beside the old top (a tank's armholes): the same light as the chest.
    reach = disc(max(2, round(BESIDE_REACH * sw * f)))
    beside = meet & arms_all & ~hands & (cv2.dilate(reg_s.view(np.uint8), reach) > 0)
    torso_c = _skin_colour(small, face, neck_base, arms_vis, beside)
    arm_c = _arm_colour(small, arms_vis, hands, torso_c)
    sws = sw * f
    # Where the arms are: their colour, blended softly into the torso's.
    sh_s = (size[1], size[0])
    segs = [(p * f, q * f, r * f) for p, q, r in arms]
    arm_s = capsule_mask(sh_s, segs, origin * f).astype(np.float32)
    torso_s = _torso_poly(body, -0.1 * sw, sh_s, origin, f).astype(np.float32)
    arm_w = cv2.GaussianBlur(arm_s * (1 - torso_s), (0, 0), max(0.6, 0.04 * sws))
    arm_col = _arm_gradient(arm_c, small, arms_vis & hands, body, origin, f, arm_w > 0)
    colour = torso_c[None, None] * (1 - arm_w[..., None]) + arm_col * arm_w[..., None]
    # A rounded body: each part darker over the outer eighth of a shoulder width of its
    # own outline (it turns away), the arms in front of the torso: where an arm hangs
    # against the body the two meet in a dark line and the torso beside the arm is in its
    # shade, as in a photo, not one flat slab from armpit to elbow.
    person_s = cv2.resize((lab > 0).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    body_s = bare_s & person_s
    arm_in = (arm_s > 0) & (body_s > 0)
    ramp = max(0.12 * sws, 1.0)
    d_torso = cv2.distanceTransform(np.where(arm_in, 0, body_s).astype(np.uint8), cv2.DIST_L2, 3)
    d_arm = cv2.distanceTransform(arm_in.astype(np.uint8), cv2.DIST_L2, 3)
    t_arm = np.minimum(d_arm / max(ARM_ROUND * sws, 1.0), 1.0)
    t = np.where(arm_in, t_arm, np.minimum(d_torso / ramp, 1.0))
    edge_light = np.where(arm_in, np.float32(ARM_EDGE_LIGHT), np.float32(0.82))
    light = edge_light + (1 - edge_light) * np.sqrt(t * (2 - t))
    if arm_in.any():
        near_arm = cv2.distanceTransform((~arm_in).astype(np.uint8), cv2.DIST_L2, 3)
        light *= 1 - ARM_SHADE * np.exp(-near_arm / max(ARM_SHADE_REACH * sws, 0.5)) * ~arm_in
    # The photo's light: the old clothes' luminance, very low frequency, a third of it.
    old_s = reg_s & (bare_s > 0)
    if old_s.sum() >= 20:
        lum = luminance(small)
        log_l = np.log(np.maximum(lum, 1 / 255)).astype(np.float32)
        wgt = old_s.astype(np.float32)
        sig = max(1.0, 0.3 * sws)
        num = _blur_low(log_l * wgt, sig)
        den = _blur_low(wgt, sig)
        low = np.where(den > 0.05, num / np.maximum(den, 1e-6), 0).astype(np.float32)
        ok = den > 0.05
        if ok.any():
            low = push_pull_fill(low, ok.astype(np.float32))
            low -= float(np.median(low[old_s]))
            light *= np.exp(0.3 * np.clip(low, -0.35, 0.35))
    # Where a sleeve covered an arm, its light across the arm is the arm's (a lit side, a
    # side turned away or in the body's shade): `_sleeve_light`.
    arm_old = arm_in & old_s
    if arm_old.sum() >= 20:
        light *= _sleeve_light(small, arm_old, segs, origin * f)
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
    vis_s = cv2.erode(meet.astype(np.uint8), disc(2)).astype(bool)  # no speckles
    edge = vis_s & cv2.dilate(reg_s.astype(np.uint8), disc(3)).astype(bool)
    if edge.sum() >= 5:
        delta = np.clip(small - skin_s, -60, 60) * edge[..., None]
        spread = push_pull_fill(delta.astype(np.float32), edge.astype(np.float32))
        # A hand meets its arm with a step in colour (it is redder): its difference
        # fades within a few hundredths of a shoulder width, not up the whole forearm.
        at_hand = edge & hands
        d_edge = cv2.distanceTransform((~(edge & ~hands)).astype(np.uint8), cv2.DIST_L2, 3)
        fade = np.exp(-d_edge / max(0.2 * sws, 1.0))
        if at_hand.any():
            d_hand = cv2.distanceTransform((~at_hand).astype(np.uint8), cv2.DIST_L2, 3)
            fade = np.maximum(fade, np.exp(-d_hand / max(HAND_FADE * sws, 0.5)))
        fade = fade[..., None]
        skin_s = skin_s + spread * fade
    # The photo's grain, as measured on the face (a flat fill looks painted).
    grain = _grain(crop_f, (lab == LIP["face"]) & ~region)
    return skin_s.astype(np.float32), grain


#: Bare arm skin within this of the old top (shoulder widths) is lit like the chest under it.
BESIDE_REACH = 0.08
#: A chest's skin is this much darker than the lit half of the face (it faces the light
#: less directly).
FACE_TO_CHEST = 0.9
#: Skin the fill meets (`_skin_hued`): hue within this of the face's (degrees), chroma at
#: least this share of the face's, lightness from this far below the face's (shade) to
#: this far above it (light on a chest; a wall or a garment labelled neck is lighter).
MEET_HUE, MEET_CHROMA, MEET_DARKER, MEET_LIGHTER = 25.0, 0.3, 20.0, 25.0


def _sleeve_light(
    small: np.ndarray, where: np.ndarray, segs: list, origin: np.ndarray
) -> np.ndarray:
    """(h, w) float32 light factor (1 outside `where`) of an arm from the sleeve that
    covered it: for each arm segment (`segs`, capsules (p, q, r) on the reduced image whose
    origin is `origin`), the mean log luminance of the sleeve's pixels (`where`) in
    `ARM_LIGHT_BANDS` bands across the segment (`_middle_mean`), less the segment's.

    Across and not along: the light on a cylinder changes round it and hardly along it,
    while a print, a sheer sleeve's pattern or a fold lies anywhere along it; a band's
    mean over the whole segment keeps the one and drops the others (a blur of the sleeve
    carried a mesh sleeve's print onto the skin as streaks)."""
    h, w = where.shape
    out = np.ones((h, w), np.float32)
    ys, xs = np.nonzero(where)
    if ys.size == 0 or not segs:
        return out
    pts = np.stack([xs, ys], 1).astype(np.float32) + origin[None].astype(np.float32)
    log_l = np.log(np.maximum(luminance(small[ys, xs][None])[0], 4 / 255)).astype(np.float32)
    # each pixel on its nearest segment, and how far across it (radii, signed)
    near, _, off = nearest_on_segments(pts, segs)
    normals = np.float32([[-(q[1] - p[1]), q[0] - p[0]] for p, q, _ in segs])
    scale = np.float32([np.hypot(*np.subtract(q, p)) * max(float(r), 1.0) for p, q, r in segs])
    side = np.einsum("ij,ij->i", off, normals[near]) / np.maximum(scale[near], 1e-6)
    bands = np.clip(((side + 1.2) / 2.4 * ARM_LIGHT_BANDS).astype(int), 0, ARM_LIGHT_BANDS - 1)
    centres = (np.arange(ARM_LIGHT_BANDS) + 0.5) * 2.4 / ARM_LIGHT_BANDS - 1.2
    factor = np.zeros(len(pts), np.float32)
    for k in range(len(segs)):
        mine = near == k
        if mine.sum() < 4 * ARM_LIGHT_BANDS:
            continue
        prof, cnt = np.zeros(ARM_LIGHT_BANDS), np.zeros(ARM_LIGHT_BANDS)
        for b in range(ARM_LIGHT_BANDS):
            sel = mine & (bands == b)
            if sel.sum() >= 3:
                prof[b], cnt[b] = _middle_mean(log_l[sel]), sel.sum()
        ok = cnt > 0
        if ok.sum() < 4:
            continue
        # a smooth curve round the arm (lit side to shade side), not the bands' steps
        fit = np.polyfit(centres[ok], prof[ok], 2, w=np.sqrt(cnt[ok]))
        curve = np.polyval(fit, np.clip(side[mine], centres[ok][0], centres[ok][-1]))
        factor[mine] = curve - np.average(np.polyval(fit, centres[ok]), weights=cnt[ok])
    out[ys, xs] = np.exp(ARM_PHOTO_LIGHT * np.clip(factor, -0.3, 0.3))
    # the segments' curves join at the elbow over about an arm's radius
    sig = max(1.0, 0.5 * float(np.mean([r for _, _, r in segs])))
    wgt = where.astype(np.float32)
    soft = cv2.GaussianBlur(out * wgt, (0, 0), sig) / np.maximum(
        cv2.GaussianBlur(wgt, (0, 0), sig), 1e-3
    )
    return np.where(where, soft, np.float32(1.0)).astype(np.float32)


def _middle_mean(v: np.ndarray) -> float:
    """The mean of the middle half of the values: a few print pixels do not move it, and
    it does not jump between the two levels of a striped or checked pattern as a median
    does."""
    v = np.sort(v)
    n = v.size
    return float(v[n // 4 : max(n - n // 4, n // 4 + 1)].mean())


def _skin_hued(lab_px: np.ndarray, face_ref: np.ndarray) -> np.ndarray:
    """(h, w) bool: CIELAB pixels `lab_px` (h, w, 3) of skin's hue and chroma for a face
    of median colour `face_ref` (3,), lit a little more or less than it."""
    a, b = lab_px[..., 1], lab_px[..., 2]
    hue = np.degrees(np.arctan2(b, a))
    ref_hue = float(np.degrees(np.arctan2(face_ref[2], face_ref[1])))
    d_hue = np.abs((hue - ref_hue + 180.0) % 360.0 - 180.0)
    chroma, ref_chroma = np.hypot(a, b), float(np.hypot(face_ref[1], face_ref[2]))
    return (
        (d_hue <= MEET_HUE)
        & (chroma >= max(4.0, MEET_CHROMA * ref_chroma))
        & (lab_px[..., 0] >= face_ref[0] - MEET_DARKER)
        & (lab_px[..., 0] <= face_ref[0] + MEET_LIGHTER)
    )


def _skin_at(
    skin_s: np.ndarray, shape: tuple[int, int], box: tuple[int, int, int, int], grain: float
) -> np.ndarray:
    """(y1 - y0, x1 - x0, 3) float32: the reduced skin `skin_s` sampled (bilinear, as a
    resize to `shape` (H, W) would) over the box (y0, y1, x0, x1), with the grain."""
    h, w = shape
    sh, sw_ = skin_s.shape[:2]
    y0, y1, x0, x1 = box
    gy = np.clip((np.arange(y0, y1) + 0.5) * (sh / h) - 0.5, 0, sh - 1)
    gx = np.clip((np.arange(x0, x1) + 0.5) * (sw_ / w) - 0.5, 0, sw_ - 1)
    vals = _sample_grid(skin_s, gx, gy)
    if grain > 0.3:
        vals += _grain_noise(box, 0.8 * grain)[..., None]
    return vals


#: The hands are left out of the arms' colour within this reach of the wrist keypoint
#: (shoulder widths): a hand is redder than an arm, and often the only skin in sight.
HAND_REACH = 0.5
#: The visible hand's difference from the arm's fill fades over this (shoulder widths).
HAND_FADE = 0.05
#: The arms' own colour needs this many reduced-scale pixels of bare arm above the hands.
ARM_MIN_PX = 25


def _hands(shape: tuple[int, int], body: Body, origin: np.ndarray, f: float) -> np.ndarray:
    """(h, w) bool on a crop at `origin` reduced by `f`: discs of `HAND_REACH` around the
    wrist keypoints, where the hands are."""
    r = HAND_REACH * body.sw * f
    return capsule_mask(shape, [(w * f, w * f, r) for _, _, w in body.arms.values()], origin * f)


def _arm_colour(small, arms_vis, hands, torso_c):
    """(3,) the arms' skin colour on the reduced image: the median of the visible arm skin
    (`arms_vis`, (h, w) bool) away from the `hands`; the torso's (`torso_c`) when too
    little bare arm shows (long sleeves, gloves): one arm filled with the hands' pink
    beside a torso in the neck's colour reads as two people's skin."""
    arm = arms_vis & ~hands
    if arm.sum() < ARM_MIN_PX:
        return torso_c
    return np.median(small[arm], axis=0).astype(np.float32)


def _arm_gradient(
    arm_c: np.ndarray,
    small: np.ndarray,
    hand_skin: np.ndarray,
    body: Body,
    origin,
    f: float,
    where: np.ndarray,
) -> np.ndarray:
    """(h, w, 3) or (1, 1, 3) float32: the arms' fill colour on the reduced image: `arm_c`
    at the shoulders, turning along each arm into the colour of its visible hand
    (`hand_skin`, (h, w) bool) at the wrist. Skin seen near the shoulders (a wide
    neckline's) is lit like the chest and paler than a forearm hanging at the side, which
    the hands' colour is closer to: one colour from shoulder to wrist drew pale arms ending
    in darker hands. Without enough of a hand, `arm_c` all along; outside `where` ((h, w)
    bool, where the arms' colour is used at all), `arm_c`."""
    if hand_skin.sum() < ARM_MIN_PX:
        return arm_c[None, None]
    hand_c = np.median(small[hand_skin], axis=0).astype(np.float32)
    ys, xs = np.nonzero(where)
    pts = np.stack([xs, ys], 1).astype(np.float32) / np.float32(f) + origin.astype(np.float32)
    # each pixel's place along its arm, shoulder (0) to wrist (1)
    segs, start, span = [], [], []
    for joint, elbow, wrist in body.arms.values():
        lengths = [float(np.hypot(*(elbow - joint))), float(np.hypot(*(wrist - elbow)))]
        total = max(sum(lengths), 1e-6)
        segs += [(joint, elbow), (elbow, wrist)]
        start += [0.0, lengths[0] / total]
        span += [lengths[0] / total, lengths[1] / total]
    near, u, _ = nearest_on_segments(pts, segs)
    t = np.zeros((*where.shape, 1), np.float32)
    t[ys, xs, 0] = np.float32(start)[near] + u * np.float32(span)[near]
    return arm_c[None, None] * (1 - t) + hand_c[None, None] * t


def _blur_low(img: np.ndarray, sig: float) -> np.ndarray:
    """A Gaussian blur of `sig` px of an (h, w) float32 image; a wide one at a quarter of
    the size (a very low frequency needs no more, and costs a sixteenth)."""
    if sig < 8.0:
        return cv2.GaussianBlur(img, (0, 0), sig)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, -(-w // 4)), max(1, -(-h // 4))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sig / 4)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _skin_colour(img, face, neck, arms, beside) -> np.ndarray:
    """(3,) the person's torso skin colour from the (reduced) image: the base of the neck's
    (`neck`: skin-coloured neck pixels near the shoulder line, lit like the chest, out of
    the chin's shadow) when there is enough of it; else the lit half of the bare arms
    right beside the old top (`beside`: skin under the same light as the chest, which a
    face under hair or a beard, or turned from the light, is not; the half nearest the
    top is in its shade); else the face's lit skin, a little darker (a chest is lit less
    directly than a face): the median of its lighter half, as brows, eyes, lips, a beard
    and the shade under the jaw all lie in the darker one; else the arms'."""
    if neck.sum() >= 25:
        return np.median(img[neck], axis=0).astype(np.float32)
    if beside.sum() >= 25:
        return _lit_half(img[beside])
    if face.sum() >= 12:
        px = img[face]
        lum = px @ _LUMA
        lit = px[lum >= np.median(lum)]
        return (FACE_TO_CHEST * np.median(lit, axis=0)).astype(np.float32)
    if arms.sum() >= 6:
        return np.median(img[arms], axis=0).astype(np.float32)
    return np.array([205.0, 160.0, 135.0], np.float32)


def _lit_half(px: np.ndarray) -> np.ndarray:
    """(3,) the median of the lighter half of (N, 3) skin pixels: the arms right under an
    old top's sleeves or armholes lie in its shade, darker than the chest it covered."""
    lum = px @ _LUMA
    return np.median(px[lum >= np.median(lum)], axis=0).astype(np.float32)


def _grain(crop_f: np.ndarray, where: np.ndarray) -> float:
    """Std of the photo's fine grain (px values) inside `where`, robustly; 0 if too few.
    `crop_f`: (H, W, 3) float32 or uint8 (then only the bands read are converted)."""
    box = _bbox(where, 4)
    if box is None:
        return 0.0
    y0, y1, x0, x1 = box
    # Over a large area, bands of rows: the grain is the same all over, and its estimate
    # needs no more than some tens of thousands of pixels (each band read with the margin
    # its filters reach, so that its values are those of the whole box).
    step = max(1, (y1 - y0) * (x1 - x0) // _GRAIN_PX)
    bands = [(a, min(a + 16, y1)) for a in range(y0, y1, 16 * step)] if step > 1 else [(y0, y1)]
    mean3 = np.full((1, 3), 1 / 3, np.float32)
    vals = []
    for a, b in bands:
        lo, hi = max(y0, a - 8), min(y1, b + 8)
        wh = cv2.erode(where[lo:hi, x0:x1].view(np.uint8), disc(2)).view(bool)[a - lo : b - lo]
        if not wh.any():
            continue
        # The channels' mean (numpy's `mean(axis=2)` is slow on so short an axis).
        g = cv2.transform(crop_f[lo:hi, x0:x1].astype(np.float32, copy=False), mean3)
        hp = (g - cv2.GaussianBlur(g, (0, 0), 1.5))[a - lo : b - lo]
        vals.append(hp[wh])
    n = sum(v.size for v in vals)
    if n < 100 // step:
        return 0.0
    v = np.concatenate(vals)
    return float(min(4.0, 1.4826 * np.median(np.abs(v - np.median(v)))))


#: A lower garment whose top band's luminance spreads less than this (10th to 90th
#: percentile, px values) is plain: continued by diffusion, not by the mirror, whose rows from the
#: thighs (the gap between the legs, the folds at the crotch) striped a plain waist.
_PLAIN_LOWER = 24.0


def _plain_lower(crop: np.ndarray, known: np.ndarray, cols: np.ndarray, sw: float) -> bool:
    """Whether the lower garment (`known`, (H, W) bool) is plain over its top band in
    columns `cols`: the hips, a quarter of a shoulder width down from its top edge (above
    the crotch, where a parse may take the gap between the legs for the garment)."""
    top = known[:, cols].argmax(0)
    y0 = int(np.percentile(top, 75))
    y1 = y0 + max(4, round(0.25 * sw))
    band = known[y0:y1][:, cols]
    if np.count_nonzero(band) < 50:
        return False
    px = crop[y0:y1][:, cols][band].astype(np.float32)
    lum = px @ _LUMA
    lo, hi = np.percentile(lum, (10, 90))
    return float(hi - lo) < _PLAIN_LOWER


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
    known = is_label(lab, _T_LOWER) & ~region
    # Sources: the lower clothes, or legs (a parser splits a print between them).
    src_ok = is_label(lab, _T_LOWER_LEGS) & ~region
    filled = np.zeros((h, w), bool)
    ys, xs = np.nonzero(hole)
    cols = np.unique(xs)
    has = known.any(0)
    if has[cols].any() and not _plain_lower(crop, known, cols[has[cols]], sw):
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
    known = cv2.erode(known.astype(np.uint8), disc(max(1, round(0.006 * sw)))).astype(bool)
    if not known.any():
        known = ~region & ~is_label(lab, _T_HEAD)
        if not known.any():
            return
    _diffuse(crop, known, hole, f, out)
    # The photo's grain on the diffused fill (a copy, below, brings its own).
    box = _bbox(hole, max(4, round(0.05 * sw)))
    if box is not None:
        y0, y1, x0, x1 = box
        grain = _grain(crop[y0:y1, x0:x1], known[y0:y1, x0:x1])
        if grain > 0.3:
            noise = _grain_noise((y0 + 97, y1 + 97, x0 + 41, x1 + 41), 0.8 * grain)
            sel = hole[y0:y1, x0:x1]
            out[y0:y1, x0:x1][sel] += noise[sel][:, None]
    size = (max(4, round(w * f)), max(4, round(h * f)))
    known_s = cv2.resize(known.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.999
    hole_s = cv2.resize(hole.astype(np.float32), size, interpolation=cv2.INTER_AREA) > 0.0
    # Thick parts: more than 2 reduced pixels from anything known.
    dist = cv2.distanceTransform((~known_s).astype(np.uint8), cv2.DIST_L2, 3)
    core = (dist > 2.5) & hole_s
    if not core.any():
        return
    small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    _, comp, stats, _ = cv2.connectedComponentsWithStats(core.astype(np.uint8), connectivity=8)
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA])[:3] + 1
    ring_r = max(3, round(0.08 * sw * f))
    copy = done = None  # only where a copy is made
    # Texture of the reduced background: where the surroundings are plain (a studio
    # backdrop) diffusion is all it takes.
    lum = luminance(small)
    kn = known_s.astype(np.float32)
    smooth = cv2.GaussianBlur(lum * kn, (0, 0), 6.0) / np.maximum(
        cv2.GaussianBlur(kn, (0, 0), 6.0), 1e-3
    )  # of the known background only: the person's edge is no texture
    detail = np.abs(lum - smooth)
    for c in order:
        todo_s = cv2.dilate((comp == c).astype(np.uint8), disc(3)).astype(bool) & hole_s
        ring0 = cv2.dilate(todo_s.astype(np.uint8), disc(ring_r)).astype(bool) & known_s
        if ring0.sum() < 8 or float(np.mean(detail[ring0])) < _PLAIN:
            continue
        # A few passes: a shift rarely brings known pixels onto all of a long hole (one
        # along a flag's stripes runs out of the photo); the rest gets the next best.
        for _ in range(2):
            if todo_s.sum() < 4:
                break
            ring_s = cv2.dilate(todo_s.astype(np.uint8), disc(ring_r)).astype(bool) & known_s
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
            if done is None:
                copy = np.zeros((h, w, 3), np.float32)
                done = np.zeros((h, w), np.uint8)
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
    if done is not None and done.any():
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
    hb = _bbox(hole)
    if hb is None:
        return
    hy0, hy1, hx0, hx1 = hb
    hole_b = hole[hy0:hy1, hx0:hx1, None]
    m = max(8, round(12 / f))
    y0, y1 = max(0, hy0 - m), min(h, hy1 + m)
    x0, x1 = max(0, hx0 - m), min(w, hx1 + m)
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
        fill_b = fill[hy0 - y0 : hy1 - y0, hx0 - x0 : hx1 - x0]
        np.copyto(out[hy0:hy1, hx0:hx1], fill_b, where=hole_b)
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
    gy = np.clip((np.arange(hy0, hy1) - y0 + 0.5) * fy - 0.5, 0, size[1] - 1)
    gx = np.clip((np.arange(hx0, hx1) - x0 + 0.5) * fx - 0.5, 0, size[0] - 1)
    if np.count_nonzero(hole_b) > 0.4 * hole_b.size:
        np.copyto(out[hy0:hy1, hx0:hx1], _sample_grid(filled_s, gx, gy), where=hole_b)
    else:  # a thin fringe round a big box: its pixels only
        ys, xs = np.nonzero(hole_b[..., 0])
        vals = _sample(filled_s, gx[xs].astype(np.float32), gy[ys].astype(np.float32))
        out[ys + hy0, xs + hx0] = vals


def _sample_grid(img: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """(len(gy), len(gx), C) bilinear samples of an (h, w, C) float32 image on the grid of
    columns `gx` and rows `gy` (points in `img`'s pixels): a box of a resize, without
    resizing all of it."""
    shape = (gy.size, gx.size)
    mx = np.ascontiguousarray(np.broadcast_to(gx.astype(np.float32)[None, :], shape))
    my = np.ascontiguousarray(np.broadcast_to(gy.astype(np.float32)[:, None], shape))
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR)
    return out.reshape(*shape, -1)


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
    n = tile.shape[0]
    oy, ox = y0 % n, x0 % n
    reps = (-(-(oy + y1 - y0) // n), -(-(ox + x1 - x0) // n))
    return np.tile(tile, reps)[oy : oy + y1 - y0, ox : ox + x1 - x0] * np.float32(std)


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

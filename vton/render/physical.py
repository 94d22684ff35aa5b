"""The physical renderer: drape, wrap, resize and shade a garment with no learned weights.

It is what a user without a CP-VTON checkpoint sees, so it aims to look right to a shopper
rather than to be a network's stand-in. One pair is rendered in five steps:

1. Body. Keypoints (COCO-18) give a body frame: the shoulder line, the axis down to the
   hips (estimated for waist-up photos, `complete_torso`), the arms. The torso's visible
   half-width on each side is measured on the person's silhouette at a few levels (arms
   and head excluded), within bounds set by the keypoints.
2. Garment. `vton.render.garment_geometry` reads the neck, shoulders, armpits, hem and
   sleeves off the garment's mask and splits the mask into a torso part and two sleeves.
3. Drape. The garment is sized from the body (`garment_scale`): its chest onto the
   body's chest with ease and, for a sleeved cut, its shoulder seams onto the body's, so
   the hem falls where the garment's own proportions put it (a crop top above the navel,
   a tee at the hips) and a print keeps its aspect. The torso part is mapped row by row
   from the shoulder seams down, and each row wraps around the body like cloth around a
   cylinder: at the centre the scale is the same across and down, and the excess width
   is taken up towards the sides, where the body turns away, until the side seams meet
   the body's silhouette. Points of that model fit a regularised
   thin-plate spline (smooth, no folds). Each sleeve gets its own spline from its root
   (shoulder and armpit, where the torso map put them) along the arm through the elbow to
   its length (a long sleeve ends at the wrist), with the sleeve's width tapering from the
   armhole to a cuff no narrower than the arm. A cold-shoulder cut hangs from its straps'
   tops instead of its sleeves' top corners, is sized by its chest alone, and its sleeves
   go round the upper arms below bare shoulders.
4. Layers. From back to front: the photo with the old upper clothes removed (skin where
   the body is, the background outside it, the lower clothes below the new hem, each
   filled from the photo's own pixels), the garment's torso part, the arms (skin arms,
   and old sleeves along the arms) in front of it, the sleeves, then hair and face.
   The label map gives these regions; an asset without one gets the rule-based labels of
   `vton.person.parsing.estimate_labels`.
5. Light. The person's shading (`vton.render.shading.shading_gain`: the light and the
   folds read off the old clothes) multiplies the garment, normalised so that its colour
   stays true where the light is typical; soft contact shadows darken the collar, the
   armpits, the cloth around the arms, and the body just under the hem and the sleeves.

Everything runs at the person photo's resolution, inside the box the garment and the old
clothes occupy; edges are feathered, and pixels away from the body are left as they were.
Within that box each layer is warped, feathered, lit and blended only over the box it
occupies (grown by the reach of its blur, so every value is the one the whole box would
give), and what depends on one garment or one person alone (the garment's geometry, the
body frame and its measured widths) is kept across the pairs of a shard.

Failure modes, by design: a pair without both shoulders raises `InvalidInputError` (the
index marks it ``invalid``); a garment whose silhouette has no body (an empty or shredded
mask) too. A pose far from frontal (side view, lying down) is drawn anyway and looks wrong.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import cv2
import numpy as np

from vton.digest import digest_parts
from vton.errors import InvalidInputError
from vton.geometry.capsules import capsule_mask, disc
from vton.geometry.tps import ThinPlateSpline, expand_grid, fit_tps, grid_samples
from vton.person.labels import LIP
from vton.person.parsing import estimate_labels, face_ellipse
from vton.render.base import PairwiseRenderer, RenderOutput, RenderRequest
from vton.render.body import ARM_HALF, SEAM_OUT, SEAM_UP, Body, arm_segments, body_frame, unit
from vton.render.front_neckline import inside_of_back
from vton.render.garment_geometry import (
    GarmentGeometry,
    garment_geometry,
    shoulders_are_seams,
    torso_and_sleeve_masks,
)
from vton.render.removal import ARMS, HEAD, is_label, label_table, remove_old_clothes
from vton.render.shading import (
    REDUCE_ABOVE,
    apply_gain,
    feather,
    shading_gain,
    soft_shadow,
)

__all__ = [
    "PHYSICAL_VERSION",
    "TorsoMeasure",
    "SleevePlan",
    "DrapePlan",
    "Drape",
    "measure_torso",
    "plan_drape",
    "garment_scale",
    "PhysicalRenderer",
]

#: Bump when the output changes for the same inputs: it is part of the model digest.
PHYSICAL_VERSION = "26"

#: A sleeve covers the arm this far above the shoulder point (shoulder widths): the top of
#: the shoulder's cap, which a broad deltoid lifts above the seam.
SLEEVE_CAP = 0.15
#: Measured widths are kept within these factors of the keypoint estimate.
WIDTH_CLAMP = (0.85, 1.15)
#: The garment's chest is this much wider than the body's under the arms (ease).
CHEST_EASE = 1.06
#: The chest is measured this far (fraction of the garment's length) below the armpits.
CHEST_DROP = 0.05
#: The hem ends between these levels (torso lengths below the shoulder line): a crop
#: top's at the least, a tunic's at the most; a silhouette read wrongly stays a top.
HEM_RANGE = (0.4, 1.6)
#: Sleeve opening on the body per half of its flat width (a tube seen from the front).
TUBE = 0.72
#: Below the arms a loose garment narrows with the body to at most this fraction of the
#: width its own shape gives it.
HANG = 0.92
#: A sleeve is drawn with the garment's pixels this far (fraction of the garment canvas's
#: height) into the torso part: the sleeve's warp maps its root onto the body's armhole,
#: and what it samples just inside the flat lay's armhole must not be a hole.
SLEEVE_TAKES = 0.05
#: Inside its outline on the body, less this inset (shoulder widths), a sleeve is solid.
SLEEVE_SOLID_INSET = 0.02
#: A sleeve's edge where its outline cuts it is this soft (shoulder widths, Gaussian
#: sigma): about a pixel at catalog sizes, as a photographed edge is. 0.008 drew a band
#: of 5-8 px of background through the cloth along a sleeve's outer edge.
SLEEVE_EDGE_SOFT = 0.003

_OLD_UPPER = (LIP["upper-clothes"], LIP["coat"])
_OLD_FULL = (LIP["dress"], LIP["jumpsuits"])  # removed above the new hem only
_T_OLD_UPPER, _T_OLD_FULL = label_table(_OLD_UPPER), label_table(_OLD_FULL)
_T_HEAD, _T_ARMS = label_table(HEAD), label_table(ARMS)


def _measure_half_widths(
    body: Body, inside: np.ndarray, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Visible torso half-width (px) on each side at `levels`, walking out from the axis
    until `inside` ((H, W) bool: body and not arms or head) ends; clamped around the
    keypoint estimate."""
    h, w = inside.shape
    model = body.width_model(levels)
    step = max(0.5, body.sw / 96.0)
    ks = np.arange(0, int(1.6 * body.sw / step) + 1) * step
    centres = body.centre(levels)
    acr = body.across(levels)
    out = []
    for side in (-1, 1):
        pts = centres[:, None, :] + side * ks[None, :, None] * acr[:, None, :]
        xi = np.clip(np.round(pts[..., 0]).astype(np.int64), 0, w - 1)
        yi = np.clip(np.round(pts[..., 1]).astype(np.int64), 0, h - 1)
        valid = (pts[..., 0] >= 0) & (pts[..., 0] < w) & (pts[..., 1] >= 0) & (pts[..., 1] < h)
        ok = inside[yi, xi] & valid
        ok[:, 0] = True
        first_out = np.where((~ok).any(1), (~ok).argmax(1), ks.size - 1)
        meas = ks[np.maximum(first_out - 1, 0)] + step / 2
        # Leaving the photo is not the body's edge: there the estimate stands.
        cut = ~valid[np.arange(len(levels)), first_out] | ~valid[:, 0]
        meas = np.where(cut, model, meas)
        meas = np.clip(meas, WIDTH_CLAMP[0] * model, WIDTH_CLAMP[1] * model)
        # 3-tap median against single-level outliers (a hand on the hip).
        padded = np.concatenate([meas[:1], meas, meas[-1:]])
        meas = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
        out.append(meas)
    return out[0], out[1]


def _wrap_table() -> tuple[np.ndarray, np.ndarray]:
    theta = np.linspace(1e-4, np.pi / 2, 256)
    return theta / np.sin(theta), theta


_WRAP_C, _WRAP_THETA = _wrap_table()


def _wrap(xi: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Projected position (fraction of the visible half-width) of cloth at arc fraction xi
    (0 centre, 1 side seam) when the flat half-width is c times the visible one: the
    cloth keeps its scale at the centre and turns away towards the sides (a cylinder seen
    from the front). c <= 1: stretched evenly."""
    xi = np.asarray(xi, np.float64)
    c = np.broadcast_to(np.asarray(c, np.float64), xi.shape)
    theta = np.interp(c, _WRAP_C, _WRAP_THETA)
    wrapped = np.sin(theta * np.minimum(xi, 1.0)) / np.sin(theta)
    # beyond the seam (never for torso points; kept continuous): the slope at the seam
    slope = theta * np.cos(theta) / np.sin(theta)
    wrapped = wrapped + np.maximum(xi - 1.0, 0.0) * slope
    return np.where(c <= 1.0, xi, wrapped)


@dataclass(frozen=True)
class SleevePlan:
    """One sleeve's warp: `backward` maps photo pixels to garment-canvas pixels; `outline`
    (N, 2) photo pixels bounds where the sleeve may be drawn; `side` -1 / +1; body_points
    (3 * K, 2) photo pixels: (outer edge, centre line, inner edge) at each of K stations
    from the root to the cuff, so body_points[2] is the armpit (contact shadow)."""

    side: int
    backward: ThinPlateSpline
    outline: np.ndarray
    body_points: np.ndarray


@dataclass(frozen=True)
class DrapePlan:
    """Where a garment goes on a person.

    geometry: the garment's, measured on the canvas the warps sample (the cloth asset's,
    or reduced when the garment is drawn much smaller); scale: photo pixels per canvas
    pixel at the chest centre; torso: backward spline (photo pixels -> canvas pixels);
    sleeves: one `SleevePlan` per sleeve; roi: (x0, y0, x1, y1) photo box holding the
    garment; hem_level, seam_level: px along the body axis from the shoulder line.
    """

    geometry: GarmentGeometry
    scale: float
    torso: ThinPlateSpline
    sleeves: tuple[SleevePlan, ...]
    roi: tuple[int, int, int, int]
    hem_level: float
    seam_level: float


def _half_width_fn(seam_level: float, seam_half: tuple[float, float], levels, wl, wr):
    """Body half-width (px) per side as a function of level: the seam half-distance at the
    seam level and above, the measured widths below, interpolated between."""
    lv = np.concatenate([[seam_level], levels])
    tables = {-1: np.concatenate([[seam_half[0]], wl]), 1: np.concatenate([[seam_half[1]], wr])}

    def fn(side: np.ndarray, level: np.ndarray) -> np.ndarray:
        left = np.interp(level, lv, tables[-1])
        right = np.interp(level, lv, tables[1])
        return np.where(side < 0, left, right)

    return fn


def _seam_level(body: Body, person: np.ndarray) -> float:
    """Level (px along the axis, negative = above the shoulder line) of the top of the
    shoulders where the seams go: the top of `person` ((H, W) bool: body, not head) above
    each seam, averaged, within 0.03 to 0.2 shoulder widths above the joints."""
    h, w = person.shape
    sw = body.sw
    ks = np.arange(-0.3 * sw, 0.1 * sw, max(0.5, sw / 96.0))
    tops = []
    for side in (-1, 1):
        base = body.shoulder_mid + body.across_sh * side * (0.5 + SEAM_OUT * 0.5) * sw
        pts = base[None] + ks[:, None] * body.axis[None]
        xi, yi = np.round(pts[:, 0]).astype(int), np.round(pts[:, 1]).astype(int)
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        on = np.zeros(ks.size, bool)
        on[ok] = person[yi[ok], xi[ok]]
        if on.any():
            tops.append(float(ks[int(np.argmax(on))]))
    top = float(np.mean(tops)) if tops else -SEAM_UP * sw
    return float(np.clip(top + 0.02 * sw, -0.2 * sw, -0.03 * sw))


@dataclass(frozen=True)
class TorsoMeasure:
    """The torso as the person's silhouette shows it (`measure_torso`): it depends on the
    person alone, so it is measured once and shared by every plan for that person (the
    garment is planned twice when it is reduced).

    seam_level: px along the body axis from the shoulder line (negative: above it) where
    the shoulder seams go; levels: (6,) px along the axis, from a fifth of the torso down
    to the hips, where the widths were measured; half_left, half_right: (6,) visible torso
    half-widths (px) at those levels on the viewer's left and right.
    """

    seam_level: float
    levels: np.ndarray
    half_left: np.ndarray
    half_right: np.ndarray


def measure_torso(body: Body, labels: np.ndarray) -> TorsoMeasure:
    """Measure the top of the shoulders and the torso's visible widths on `labels`, (H, W)
    uint8 LIP ids of the photo (arms, arm capsules and head excluded). Pure geometry."""
    if labels.ndim != 2:
        raise ValueError(f"expected (H, W) labels, got {labels.shape}")
    person = (labels > 0) & ~is_label(labels, _T_HEAD)
    inside = person & ~is_label(labels, _T_ARMS)
    inside &= ~capsule_mask(labels.shape, arm_segments(body, 1.0))
    # Measured down to the hips only: below them the silhouette is the legs.
    levels = np.linspace(0.2, 1.0, 6) * body.torso_len
    wl, wr = _measure_half_widths(body, inside, levels)
    return TorsoMeasure(_seam_level(body, person), levels, wl, wr)


def garment_scale(g: GarmentGeometry, body: Body, measure: TorsoMeasure) -> float:
    """Photo pixels per garment-canvas pixel that fit garment `g` to the body.

    A garment photo has no scale: it is sized from what it must cover. Its chest (the body
    part's width just under the armpits) goes onto the body's chest under the arms, with
    ease; a sleeved garment's shoulder seams also go onto the body's shoulder seams. The
    two estimates disagree when a photo's sleeves splay out (the shoulder point moves out
    along the sleeve) or a mannequin widens the chest, so a sleeved garment takes their
    geometric mean. Sleeveless cuts (straps, halters), cold-shoulder and off-shoulder cuts
    have no seam on the shoulders: the chest alone sizes them.
    """
    length_g = max(g.hem_y - g.hang_y, 1.0)
    ap_y = (g.armpit_left[1] + g.armpit_right[1]) / 2
    y = ap_y + CHEST_DROP * length_g
    chest_g = max(float(g.side_x(1, y) - g.side_x(-1, y)), 1.0)
    chest_b = float(measure.half_left[0] + measure.half_right[0])
    s_chest = CHEST_EASE * chest_b / chest_g
    if g.sleeve == "sleeveless" or g.cold_shoulder:
        return s_chest
    shoulders_g = max(g.shoulder_right[0] - g.shoulder_left[0], 1.0)
    if not shoulders_are_seams(chest_g, shoulders_g):
        return s_chest
    s_seams = 2 * (0.5 + SEAM_OUT) * body.sw / shoulders_g
    return float(np.sqrt(s_chest * s_seams))


def plan_drape(
    geometry: GarmentGeometry,
    body: Body,
    measure: TorsoMeasure,
    *,
    regularisation: float = 1e-3,
) -> DrapePlan:
    """Fit the torso and sleeve warps of a garment (`geometry`, on its canvas) onto `body`,
    whose silhouette `measure` describes. Pure geometry: no pixels are touched.
    """
    g = geometry
    sw = body.sw
    seam_level = measure.seam_level
    # Size from the body: the hem goes where the garment's own proportions put it. It
    # hangs from its shoulder seams (a cold-shoulder cut from its straps: its sleeves sit
    # on the upper arms, below the shoulder line).
    length_g = max(g.hem_y - g.hang_y, 1.0)
    s = garment_scale(g, body, measure)
    hem_level = float(np.clip(seam_level + length_g * s, *(r * body.torso_len for r in HEM_RANGE)))
    s = (hem_level - seam_level) / length_g

    seam_half = (0.5 + SEAM_OUT) * sw
    widths = _half_width_fn(
        seam_level, (seam_half, seam_half), measure.levels, measure.half_left, measure.half_right
    )

    ap_y = (g.armpit_left[1] + g.armpit_right[1]) / 2
    ap_level = seam_level + (ap_y - g.hang_y) * s
    strapped = (g.sleeve_left is None and g.sleeve_right is None) or g.cold_shoulder

    # The widest the body gets from the armpits down to each level: cloth hangs from it.
    fine = np.linspace(ap_level, max(hem_level, ap_level + 1.0), 32)
    run_l = np.maximum.accumulate(widths(np.full(32, -1.0), fine))
    run_r = np.maximum.accumulate(widths(np.full(32, 1.0), fine))

    def garment_half(side: np.ndarray, gy: np.ndarray) -> np.ndarray:
        left = g.centre_x - g.side_x(-1, gy)
        right = g.side_x(1, gy) - g.centre_x
        return np.maximum(np.where(side < 0, left, right), 1.0)

    def forward(pts: np.ndarray) -> np.ndarray:
        """Garment-canvas points -> photo points through the row-wrap model."""
        gx, gy = pts[:, 0], pts[:, 1]
        level = seam_level + (gy - g.hang_y) * s
        side = np.where(gx < g.centre_x, -1.0, 1.0)
        a_g = garment_half(side, gy)
        a = a_g * s
        wb = widths(side, level)
        # Below the arms cloth hangs: it narrows with the body only as far as the
        # garment's own shape does (a tee does not follow the waist in), and a little.
        widest = np.where(side < 0, np.interp(level, fine, run_l), np.interp(level, fine, run_r))
        hang = widest * a_g / garment_half(side, np.full_like(gy, ap_y))
        wb = np.where(level > ap_level, np.maximum(wb, HANG * hang), wb)
        u = np.abs(gx - g.centre_x) * s
        x = wb * _wrap(u / a, a / wb)
        if strapped:
            # Above the armholes a sleeveless or cold-shoulder cut is straps or a neck
            # band, not cloth round the body: it keeps its own scale (a halter's band
            # stays at the neck instead of being stretched across the shoulders).
            t = np.clip((ap_level - level) / (0.15 * sw), 0.0, 1.0)
            x = x + (np.minimum(u, x) - x) * t
        return body.centre(level) + (side * x)[:, None] * body.across(level)

    # Control points: rows from the collar to the hem, across the torso part.
    neck_y = min(g.neck_left[1], g.neck_right[1])
    rows = np.concatenate([[neck_y, g.shoulder_y, ap_y], np.linspace(ap_y, g.hem_y, 5)[1:]])
    frac = np.array([-1.0, -0.7, -0.35, 0.0, 0.35, 0.7, 1.0])
    gpts = []
    for y in rows:
        xl, xr = float(g.side_x(-1, y)), float(g.side_x(1, y))
        for f in frac:
            half = (g.centre_x - xl) if f < 0 else (xr - g.centre_x)
            gpts.append((g.centre_x + f * half, y))
    gpts += [g.neck_left, g.neck_right, g.neck_centre]
    garment_pts = np.unique(np.round(np.asarray(gpts, np.float64), 3), axis=0)
    body_pts = forward(garment_pts)
    torso = fit_tps(body_pts, garment_pts, regularisation)

    sleeves = []
    for side, sl in ((-1, g.sleeve_left), (1, g.sleeve_right)):
        if sl is None:
            continue
        sleeves.append(
            _plan_sleeve(side, sl, body, forward, s, regularisation, on_arm=g.cold_shoulder)
        )

    all_pts = [body_pts] + [sp.outline for sp in sleeves]
    pts = np.concatenate(all_pts)
    return DrapePlan(
        g,
        s,
        torso,
        tuple(sleeves),
        (
            int(np.floor(pts[:, 0].min())),
            int(np.floor(pts[:, 1].min())),
            int(np.ceil(pts[:, 0].max())) + 1,
            int(np.ceil(pts[:, 1].max())) + 1,
        ),
        hem_level,
        seam_level,
    )


def _path_point(path: np.ndarray, dist: float) -> tuple[np.ndarray, np.ndarray]:
    """Point at arc length `dist` along polyline `path` (K, 2), and the unit direction
    there (averaged across a joint it sits on)."""
    seg = np.diff(path, axis=0)
    lens = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(lens)])
    dist = float(np.clip(dist, 0.0, cum[-1]))
    i = int(min(np.searchsorted(cum, dist, side="right") - 1, len(seg) - 1))
    t = (dist - cum[i]) / max(lens[i], 1e-9)
    p = path[i] + seg[i] * t
    d = unit(seg[i])
    # Blend directions near the joint so the sleeve's edges turn smoothly.
    if i + 1 < len(seg) and lens[i] - (dist - cum[i]) < 0.15 * lens[i]:
        d = unit(d + unit(seg[i + 1]))
    elif i > 0 and dist - cum[i] < 0.15 * lens[i]:
        d = unit(d + unit(seg[i - 1]))
    return p, d


def _plan_sleeve(
    side, sl, body: Body, forward, s: float, regularisation: float, on_arm: bool = False
) -> SleevePlan:
    """The warp of one sleeve along its arm. `on_arm`: the sleeve is set on the upper arm
    (a cold-shoulder cut): its root goes across the arm at the height the torso's fit puts
    its top corner (that fit alone would put the corner on the torso's side and the root
    down it to the armpit, the sleeve standing out from a hanging arm)."""
    sw = body.sw
    root_o = forward(np.asarray([sl.root_outer]))[0]
    root_i = forward(np.asarray([sl.root_inner]))[0]
    if on_arm:
        root_o, root_i = _across_arm(body, side, root_o)
    else:
        root_i = _raised_armpit(body, side, root_o, root_i)
    root_c = (root_o + root_i) / 2
    _, elbow, wrist = body.arms[side]
    path = np.stack([root_c, elbow, wrist])
    upper = float(np.hypot(*(elbow - root_c)))
    full = upper + float(np.hypot(*(wrist - elbow)))
    length = sl.length * s
    long = sl.length * s > 1.2 * upper
    if long:
        length = float(np.clip(length, 0.92 * full, full))
    else:
        length = float(np.clip(length, 0.2 * upper, full))
    if on_arm:
        # Set on the arm, a sleeve hangs down it from its top as far as it reaches below
        # that in the flat lay (a flounce read flat has its "cuff" beside its root).
        drop = max(sl.root_inner[1], sl.cuff_inner[1], sl.cuff_outer[1]) - sl.root_outer[1]
        length = float(min(max(length, drop * s), full))
    # Garment sleeve frame.
    gc0 = sl.root_centre
    gc1 = sl.cuff_centre
    gd = unit(gc1 - gc0)
    gn = np.array([-gd[1], gd[0]])
    if (np.asarray(sl.root_outer) - gc0) @ gn < 0:
        gn = -gn
    root_hw_g = abs(float((np.asarray(sl.root_outer) - gc0) @ gn))
    root_hw_b = float(np.hypot(*(root_o - root_i))) / 2
    cuff_hw_g = sl.cuff_half_width
    # Arm thickness where the cuff ends.
    arm_hw = np.interp(length, [0.0, upper, full], [a * sw for a in ARM_HALF])
    cuff_hw_b = max(TUBE * cuff_hw_g * s, 1.08 * arm_hw)
    stations = [0.0, 1 / 3, 2 / 3, 1.0]
    fe = upper / max(length, 1e-6)
    if 0.15 < fe < 0.9:
        stations = sorted({*stations, fe})
    gpts, bpts, outer_b, inner_b = [], [], [], []
    # Orientation of the body's outer side: towards the shoulder seam.
    for f in stations:
        hw_g = root_hw_g + (cuff_hw_g - root_hw_g) * f
        # Past the armhole a sleeve is a tube round the arm: as wide as its own flat
        # width allows, never narrower than the arm (a straight taper from the armhole,
        # which spans shoulder to armpit, would puff it out like a balloon).
        arm_f = np.interp(f * length, [0.0, upper, full], [a * sw for a in ARM_HALF])
        tube = max(TUBE * hw_g * s, 1.08 * float(arm_f))
        hw_b = root_hw_b if f == 0.0 else min(root_hw_b + (cuff_hw_b - root_hw_b) * f, tube)
        cg = gc0 + (gc1 - gc0) * f
        p, d = _path_point(path, f * length)
        n = np.array([-d[1], d[0]])
        if f == 0.0:
            go, gi = np.asarray(sl.root_outer), np.asarray(sl.root_inner)
            bo, bi = root_o, root_i
            sign = 1.0 if (root_o - root_c) @ n >= 0 else -1.0
        else:
            go, gi = cg + gn * hw_g, cg - gn * hw_g
            bo, bi = p + sign * n * hw_b, p - sign * n * hw_b
        gpts += [go, cg, gi]
        bpts += [bo, p, bi]
        outer_b.append(bo)
        inner_b.append(bi)
    gpts_a = np.asarray(gpts, np.float64)
    bpts_a = np.asarray(bpts, np.float64)
    backward = fit_tps(bpts_a, gpts_a, regularisation)
    outline = np.concatenate([np.asarray(outer_b), np.asarray(inner_b)[::-1]])
    return SleevePlan(side, backward, outline, bpts_a)


#: An upper arm this far (degrees) or more from the body's axis is raised away from it.
RAISED_ARM_DEG = 35.0


def _raised_armpit(body: Body, side: int, root_o: np.ndarray, root_i: np.ndarray) -> np.ndarray:
    """The sleeve root's inner end (the armpit) on the body: where the torso's fit puts
    it (`root_i`), unless the arm is raised away from the body so far that the upper
    arm's underside meets the armhole (`root_o` to `root_i`) above it; then there.

    The armhole spans shoulder to armpit down the torso's side; a sleeve tapering from
    it along a raised arm (a hand on the hip) had its underarm seam run back up from the
    armpit to the arm, and the warp folded over itself there: the sleeve split in two
    with background between, and a shred of it hung below the arm."""
    joint, elbow, _ = body.arms[side]
    d = elbow - joint
    length = float(np.hypot(*d))
    if length < 1e-6:
        return root_i
    d = d / length
    if float(d @ body.axis) > np.cos(np.radians(RAISED_ARM_DEG)):
        return root_i  # hanging: the torso's armpit is the arm's
    n = np.array([-d[1], d[0]])
    # the underside: towards the armpit, away from the shoulder seam
    if (root_i - joint) @ n < (root_o - joint) @ n:
        n = -n
    under = joint + n * ARM_HALF[0] * body.sw
    hole = root_i - root_o
    # under + a d = root_o + t hole
    m = np.array([[d[0], -hole[0]], [d[1], -hole[1]]])
    if abs(float(np.linalg.det(m))) < 1e-9:
        return root_i
    a, t = np.linalg.solve(m, root_o - under)
    if not (0.3 < t < 1.0) or a < -0.5 * length:
        return root_i
    return root_o + t * hole


def _across_arm(body: Body, side: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points on the outer and the inner edge of the `side` upper arm (shoulder joint
    to elbow, its `ARM_HALF` thickness a little eased) at the level of photo point `p`."""
    joint, elbow, _ = body.arms[side]
    d = elbow - joint
    rise = float(d @ body.axis)
    t = 0.0 if rise <= 1e-6 else float(np.clip(((p - joint) @ body.axis) / rise, 0.0, 1.0))
    n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
    if n @ (body.across_sh * side) < 0:
        n = -n
    half = 1.08 * (ARM_HALF[0] + (ARM_HALF[1] - ARM_HALF[0]) * t) * body.sw
    on = joint + d * t
    return on + n * half, on - n * half


def _remap(img: np.ndarray, mx: np.ndarray, my: np.ndarray, border) -> np.ndarray:
    return cv2.remap(
        img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border
    )


@dataclass(frozen=True)
class Drape:
    """One pair's geometry (`PhysicalRenderer.drape`): labels (H, W) uint8 LIP ids used for
    layering (the asset's, or estimated); garment, garment_mask: the canvas the plan's
    warps sample, (h, w, 3) uint8 and (h, w) uint8 0..255."""

    body: Body
    labels: np.ndarray
    plan: DrapePlan
    garment: np.ndarray
    garment_mask: np.ndarray


class PhysicalRenderer(PairwiseRenderer):
    """Weight-free drape with occlusion, old-garment removal and shading; see the module
    docstring. Parameters are part of the model digest.

    regularisation: thin-plate spline smoothing (normalised units); shading: strength of
    the person's light on the garment (0 = flat, 1 = as photographed); wrinkles: strength
    of the fold band; shadows: strength of the contact shadows; feather: edge softness in
    pixels at a 512 px photo (scaled with the photo).
    """

    name = "physical"
    batch_size = 1
    uses_gpu = False

    def __init__(
        self,
        regularisation: float = 1e-3,
        shading: float = 0.85,
        wrinkles: float = 0.8,
        shadows: float = 1.0,
        feather: float = 0.8,
    ) -> None:
        for name, v in (
            ("regularisation", regularisation),
            ("shading", shading),
            ("wrinkles", wrinkles),
            ("shadows", shadows),
            ("feather", feather),
        ):
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        self.regularisation = float(regularisation)
        self.shading = float(shading)
        self.wrinkles = float(wrinkles)
        self.shadows = float(shadows)
        self.feather = float(feather)
        self._memo = _AssetMemo()

    @property
    def model_id(self) -> str:
        """Readable name and algorithm version, e.g. ``physical-v1``."""
        return f"physical-v{PHYSICAL_VERSION}"

    @property
    def model_digest(self) -> str:
        """``weight-free:physical-v<version>:<digest of the version and parameters>``: a new
        version or other parameters re-key every output."""
        return f"weight-free:{self.model_id}:" + digest_parts(
            "physical",
            PHYSICAL_VERSION,
            *(
                repr(v)
                for v in (
                    self.regularisation,
                    self.shading,
                    self.wrinkles,
                    self.shadows,
                    self.feather,
                )
            ),
        )

    # -- one pair -------------------------------------------------------------------------

    def render_one(self, req: RenderRequest) -> RenderOutput:
        """Render one pair; raises for a pair that cannot be rendered."""
        d = self.drape(req)
        return self._compose(
            req.person.image, d.labels, d.body, d.plan, d.garment, d.garment_mask,
            d.plan.geometry, req.person.meta,
        )  # fmt: skip

    def drape(self, req: RenderRequest) -> Drape:
        """The geometry of one pair: body frame, label map used, and the fitted warps with
        the garment canvas they sample (reduced when the garment is drawn small)."""
        person, cloth = req.person, req.cloth
        item = f"pair {req.pair_id}"
        img = person.image
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"{item}: person image must be (H, W, 3) uint8, got {img.shape}")
        if cloth.image.shape[:2] != cloth.mask.shape or cloth.image.ndim != 3:
            raise ValueError(
                f"{item}: garment image {cloth.image.shape} and mask {cloth.mask.shape} differ"
            )
        # A shard meets each garment and person in many pairs: what depends on one of
        # them alone is computed once per asset object.
        body, labels, measure = self._memo.get(
            person, lambda: self._person_frame(person, f"{item} person")
        )
        geom_full, worn_mask = self._memo.get(cloth.mask, lambda: _worn(cloth, f"{item} garment"))
        plan = plan_drape(geom_full, body, measure, regularisation=self.regularisation)
        # Reduce the garment when it is drawn much smaller than its canvas: antialiasing,
        # and less to sample.
        f = min(1.0, 1.5 * plan.scale)
        if f >= 0.95:
            return Drape(body, labels, plan, cloth.image, worn_mask)
        h0, w0 = cloth.mask.shape
        size = (max(8, round(w0 * f)), max(8, round(h0 * f)))
        f = size[1] / h0
        g_img = cv2.resize(cloth.image, size, interpolation=cv2.INTER_AREA)
        g_mask = cv2.resize(worn_mask, size, interpolation=cv2.INTER_AREA)
        geom = replace(geom_full.scaled(f), width=size[0], height=size[1])
        plan = plan_drape(geom, body, measure, regularisation=self.regularisation)
        return Drape(body, labels, plan, g_img, g_mask)

    def _person_frame(self, person, item: str) -> tuple[Body, np.ndarray, TorsoMeasure]:
        body = body_frame(person.keypoints, item)
        labels = self._labels(person, body)
        return body, labels, measure_torso(body, labels)

    def _labels(self, person, body: Body) -> np.ndarray:
        h, w = person.image.shape[:2]
        if person.parse is not None:
            if person.parse.shape != (h, w):
                raise ValueError(
                    f"label map {person.parse.shape} does not match the photo {(h, w)}"
                )
            return person.parse
        mask = person.mask
        if mask is None or mask.shape != (h, w):
            raise ValueError(f"person mask {getattr(mask, 'shape', None)} does not match {(h, w)}")
        face = face_ellipse(person.keypoints)
        return estimate_labels(person.image, mask, person.keypoints.astype(np.float32), face)

    def _compose(self, img, labels, body: Body, plan: DrapePlan, g_img, g_mask, geom, meta):
        h, w = img.shape[:2]
        sw = body.sw
        res = max(h, w) / 512.0
        # Work box: the garment's and the old clothes' extent, with a margin.
        old_full = is_label(labels, _T_OLD_UPPER)
        hem_line = float(plan.hem_level)
        rows_old = is_label(labels, _T_OLD_FULL)
        if rows_old.any():
            yy, xx = np.nonzero(rows_old)
            lvl = (np.stack([xx, yy], 1) - body.shoulder_mid) @ body.axis
            keep = lvl <= hem_line + 0.05 * sw
            rows_old[yy[~keep], xx[~keep]] = False
            old_full |= rows_old
        x0, y0, x1, y1 = plan.roi
        margin = int(0.12 * sw) + 4
        ob = _bbox(old_full)
        if ob is not None:
            x0, y0 = min(x0, ob[2]), min(y0, ob[0])
            x1, y1 = max(x1, ob[3]), max(y1, ob[1])
            # Where a shorter top uncovers the lower garment, removal continues it upwards
            # from the rows below the old top: the crop must hold as many of them.
            hem_y = float(body.centre(np.array([hem_line]))[0, 1])
            uncovered = ob[1] - hem_y
            if uncovered > 0:
                y1 = max(y1, ob[1] + int(uncovered + 0.2 * sw))
        x0, y0 = max(0, x0 - margin), max(0, y0 - margin)
        x1, y1 = min(w, x1 + margin), min(h, y1 + margin)
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise InvalidInputError("pair", "the garment falls outside the photo")
        bh, bw = y1 - y0, x1 - x0
        origin = np.array([x0, y0], np.float64)
        crop = img[y0:y1, x0:x1]
        lab = labels[y0:y1, x0:x1]
        old = old_full[y0:y1, x0:x1]
        # Spline grid step (px): the warp is smooth at a few px even on small photos.
        step = max(4, min(8, round(4 * res)))
        fsig = self.feather * res

        # Garment parts on the canvas, then warped.
        # (The split is resolution-sensitive: a sliver under the arm joins the sleeve or
        # the torso by its connectivity, so it is made on the canvas the warps sample.)
        hard = _hard(g_mask)
        torso_m, left_m, right_m = torso_and_sleeve_masks(hard, geom)
        soft = g_mask  # anti-aliased edges of the (possibly reduced) garment mask
        white = (255, 255, 255)
        mx, my = _backward_maps(plan.torso, (bh, bw), step=step, origin=(x0, y0))
        # Where the torso part lands (its soft-edged alpha is 0 wherever this is).
        t_part = _remap(torso_m, mx, my, 0)
        # Occluders: head always in front; arms in front of the torso part.
        head = is_label(lab, _T_HEAD)
        cold = geom.cold_shoulder
        # A sleeved cut's shoulders rest on the person's (straps and a cold shoulder's
        # bare shoulders do not cover them); where the maps moved, the torso part lands
        # anew (only that box is warped again).
        rests = plan.sleeves and not cold
        lifted = _rest_on_outline(mx, my, t_part, old & ~head, body, origin) if rests else None
        if lifted is not None:
            ly0, ly1, lx0, lx1 = lifted
            ys_, xs_ = slice(ly0, ly1), slice(lx0, lx1)
            t_part[ys_, xs_] = _remap(torso_m, mx[ys_, xs_], my[ys_, xs_], 0)
        # A parse's "arm" far from the pose's arms (skin of a wide neckline) is not an
        # arm: only labelled pixels along the arms come in front.
        # A sleeveless cut has no cloth on the arms: its armholes run along the arms' inner
        # edges, so the arms are in front right up to the shoulders (else the torso part
        # of a top cut wider than the chest stands on the shoulder caps as flat wings);
        # so is a cold-shoulder cut's, whose sleeves start on the upper arm.
        skip = 0.3 if plan.sleeves and not cold else 0.0
        arm_lab = is_label(lab, _T_ARMS)
        along = capsule_mask((bh, bw), arm_segments(body, 1.8, skip_top=skip), origin)
        arms_front = arm_lab & along
        # Where an old sleeve covers an arm, the arm's line is the arm (a sleeveless cut's
        # armhole takes in the whole arm's width there).
        cap_scale = 0.75 if plan.sleeves else 1.0
        caps = capsule_mask((bh, bw), arm_segments(body, cap_scale, skip_top=skip + 0.1), origin)
        arms_front |= caps & old
        # The whole arm, its top at the shoulder too: what a sleeve covers.
        arms_all = arms_front
        if plan.sleeves:
            arms_all = arm_lab & capsule_mask((bh, bw), arm_segments(body, 1.8), origin)
            arms_all |= capsule_mask((bh, bw), arm_segments(body, 0.75), origin) & old

        sleeve_layers = []
        sleeve_zone = np.zeros((bh, bw), np.float32)
        # Off the garment a sleeve samples its own colours pushed out (not the torso's: a
        # sleeve in a contrasting colour showed a light loop at the armpit, where its warp
        # crosses the flat lay's gap between sleeve and torso). Both sleeves at once: they
        # lie far apart.
        if plan.sleeves:
            fill_s, fill_f = _push_out(g_img, cv2.min(soft, cv2.max(left_m, right_m)))
        for sp in plan.sleeves:
            own_part = left_m if sp.side < 0 else right_m
            # Some of the torso goes with the sleeve, so no gap opens at the seam.
            r = max(1, round(SLEEVE_TAKES * geom.height))
            # (a square: OpenCV dilates by one in time independent of its size)
            kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1,) * 2)
            part = cv2.min(soft, cv2.dilate(own_part, kernel))
            # The arm down to the cuff is in the sleeve, however wide the photo's arm is
            # for the sleeve the pattern gives it: where an arm hangs in front of the
            # torso's side, the torso is cut away there (arms in front) and only the
            # sleeve can cover it.
            c0, c1 = sp.body_points[0], sp.body_points[-2]  # shoulder, cuff's centre
            if cold:
                c0 = sp.body_points[1]  # the root's centre: the root crosses the arm
            arm_in = capsule_mask((bh, bw), [(c0, c1, 0.35 * sw)], origin) & arms_all
            ab = _bbox(arm_in)
            if ab is not None:
                # ...from the shoulder to the cuff only: not the forearm below a short one.
                ys_, xs_ = np.mgrid[ab[0] : ab[1], ab[2] : ab[3]]
                d = c1 - c0
                t = ((xs_ + origin[0] - c0[0]) * d[0] + (ys_ + origin[1] - c0[1]) * d[1]) / max(
                    float(d @ d), 1e-6
                )
                length = max(float(np.sqrt(d @ d)), 1e-6)
                # (as far past the cuff as the outline's own margin reaches, and over the
                # shoulder's cap, above the shoulder point, up to the seam; a cold-shoulder
                # sleeve from its own top, the shoulder above it bare)
                t_end = 1 + 0.03 * sw / length
                t_start = 0.0 if cold else -SLEEVE_CAP * sw / length
                arm_in[ab[0] : ab[1], ab[2] : ab[3]] &= (t >= t_start) & (t <= t_end)
                ab = _bbox(arm_in)
            # A sleeve is drawn only near its outline and its arm: warp that box, not the
            # whole crop.
            pad = int(0.03 * sw + 4 * 0.02 * sw) + 3
            lo, hi = sp.outline.min(0) - origin, sp.outline.max(0) - origin
            if ab is not None:
                lo = np.minimum(lo, (ab[2], ab[0]))
                hi = np.maximum(hi, (ab[3] - 1, ab[1] - 1))
            sx0, sy0 = (np.floor(lo).astype(int) - pad).tolist()
            sx1, sy1 = (np.ceil(hi).astype(int) + pad + 1).tolist()
            sx0, sy0, sx1, sy1 = max(0, sx0), max(0, sy0), min(bw, sx1), min(bh, sy1)
            if sx1 - sx0 < 2 or sy1 - sy0 < 2:
                continue  # nothing of it in the crop: a layer of alpha 0 changes nothing
            box = (sy1 - sy0, sx1 - sx0)
            o = (x0 + sx0, y0 + sy0)
            arm_in = arm_in[sy0:sy1, sx0:sx1].view(np.uint8)
            smx, smy = _backward_maps(sp.backward, box, step=step, origin=o)
            a = _remap(part, smx, smy, 0).astype(np.float32) * np.float32(1 / 255)
            own = _remap(cv2.min(soft, own_part), smx, smy, 0).astype(np.float32)
            own *= np.float32(1 / 255)
            # The garment's pixels where it is, its colours pushed out beyond its edge
            # (`_push_out`, sampled on its reduced canvas), blended by its own alpha.
            s_own = _remap(g_img, smx, smy, white).astype(np.float32)
            fx, fy = fill_f
            s_fill = _remap(fill_s, smx * fx + (0.5 * fx - 0.5), smy * fy + (0.5 * fy - 0.5), white)
            # The photo's outermost pixels of the garment hold the backdrop's colour (its
            # anti-aliased edge, and what the mask took of it): the fill takes over there,
            # two canvas pixels in (weighting by the alpha itself left a light line along
            # the sleeve's outline).
            w_own = _remap(cv2.erode(part, disc(2)), smx, smy, 0).astype(np.float32)
            w_own = (w_own * np.float32(1 / 255))[..., None]
            s_rgb = (s_fill + (s_own - s_fill) * w_own + 0.5).astype(np.uint8)
            lim = np.zeros(box, np.uint8)
            poly = np.round(sp.outline - origin - (sx0, sy0)).astype(np.int32)
            cv2.fillPoly(lim, [poly], 1)
            # Inside its outline on the body a sleeve is cloth: where the warp samples the
            # flat lay's backdrop (the gap under a sleeve laid out at an angle), the
            # fabric's colour pushed out of the garment fills the hole.
            inside = cv2.erode(lim, disc(max(1, round(SLEEVE_SOLID_INSET * sw))))
            inside |= arm_in
            inside_a = feather(inside, 0.005 * sw)
            # What the sleeve's warp samples of the torso part only fills a gap the torso
            # part leaves: drawn over it, those pixels lay beside the torso's own warp of
            # them (a logo's end smeared, a raglan yoke's colour curled over the chest).
            of_torso = _remap(torso_m, smx, smy, 0).astype(np.float32) * np.float32(1 / 255)
            solid = np.maximum(own, inside_a * (1 - of_torso))
            take = np.maximum(np.maximum(a, inside_a) - solid, 0.0)
            lim = cv2.dilate(lim | arm_in, disc(max(1, round(0.03 * sw))))
            zone = feather(lim, SLEEVE_EDGE_SOFT * sw)
            z = sleeve_zone[sy0:sy1, sx0:sx1]
            np.maximum(z, zone, out=z)
            sleeve_layers.append(((sy0, sy1, sx0, sx1), s_rgb, solid * zone, take * zone))
        # The torso's colour counts only where it or a sleeve may be drawn, after feathering:
        # the box of both, grown by twice the blur's reach; white beyond, as off the canvas.
        sig_t = fsig * 0.6
        grow = max(bh, bw) if sig_t > REDUCE_ABOVE else 2 * _reach(sig_t) + 1
        boxes = [b for b in [_bbox(t_part > 0)] if b is not None]
        boxes += [sbox for sbox, _, _, _ in sleeve_layers]
        t_rgb = np.full((bh, bw, 3), 255, np.uint8)
        t_alpha = np.zeros((bh, bw), np.float32)
        if boxes:
            u = np.array(boxes)
            ty0, tx0 = max(0, int(u[:, 0].min()) - grow), max(0, int(u[:, 2].min()) - grow)
            ty1, tx1 = min(bh, int(u[:, 1].max()) + grow), min(bw, int(u[:, 3].max()) + grow)
            bmx, bmy = mx[ty0:ty1, tx0:tx1], my[ty0:ty1, tx0:tx1]
            t_rgb[ty0:ty1, tx0:tx1] = _remap(g_img, bmx, bmy, white)
            ta = _remap(cv2.min(soft, torso_m), bmx, bmy, 0)
            t_alpha[ty0:ty1, tx0:tx1] = ta.astype(np.float32) * np.float32(1 / 255)

        head_a = _feather_mask(head, fsig)
        arms_a = _feather_mask(arms_front, fsig)
        # Cloth rests on the shoulders: above the chest it stays within the person's
        # outline (a garment cut straighter than the shoulders' slope would otherwise
        # stand out into the background beside the neck).
        level = body.levels((bh, bw), origin)
        rest = _on_shoulders(lab > 0, level, plan.seam_level + 0.2 * sw, sw, fsig)
        # The torso part rests on the body down to the armholes: a strap or a shoulder
        # cut wider than the person's shoulders does not stand out into the background
        # beside the arm (the arm in front hides it on the arm itself).
        ap_y = (geom.armpit_left[1] + geom.armpit_right[1]) / 2
        ap_level = plan.seam_level + (ap_y - geom.hang_y) * plan.scale
        rest_t = _on_shoulders(lab > 0, level, max(plan.seam_level + 0.2 * sw, ap_level), sw, fsig)
        # Inside a sleeve the arm is in the sleeve: it hides no torso there (a sleeve a
        # little narrower than the arm would otherwise leave a strip of skin at its seam).
        arms_t = arms_a * (1 - sleeve_zone)
        t_alpha = _feather_mask(t_alpha, fsig * 0.6) * (1 - np.maximum(head_a, arms_t)) * rest_t
        sleeve_alpha_total = np.zeros((bh, bw), np.float32)
        # Each sleeve layer covers a box of the crop (its alpha is 0 outside it), feathered
        # in that box grown by twice the blur's reach: the same values as over the crop.
        layers = []
        for sbox, s_rgb, s_alpha, s_take in sleeve_layers:
            sy_, sx_ = slice(sbox[0], sbox[1]), slice(sbox[2], sbox[3])
            s_alpha = np.maximum(s_alpha, s_take * (1 - t_alpha[sy_, sx_]))
            box, a = _feather_in_box(s_alpha, sbox, (bh, bw), fsig * 0.6)
            ys_, xs_ = slice(box[0], box[1]), slice(box[2], box[3])
            a = a * (1 - head_a[ys_, xs_]) * rest[ys_, xs_]
            rgb = np.full((box[1] - box[0], box[3] - box[2], 3), 255, np.uint8)
            rgb[sbox[0] - box[0] : sbox[1] - box[0], sbox[2] - box[2] : sbox[3] - box[2]] = s_rgb
            layers.append(((ys_, xs_), rgb, a))
            np.maximum(sleeve_alpha_total[ys_, xs_], a, out=sleeve_alpha_total[ys_, xs_])

        # Base: the photo with the old clothes removed.
        base = remove_old_clothes(crop, lab, old, body, plan.seam_level, plan.hem_level, origin)

        # Light.
        gain = shading_gain(crop, old, sw, strength=self.shading, wrinkles=self.wrinkles)
        garment_area = np.maximum(t_alpha, sleeve_alpha_total) > 0.5
        if garment_area.any():
            gain = gain / float(np.median(gain[garment_area]))
        # Contact shadows on the garment.
        k = self.shadows
        shade = np.ones((bh, bw), np.float32)
        if k > 0:
            # The collar's shadow falls from the neck, not from bare skin lower down (a
            # parse labels a midriff or a low neckline's skin neck too), and only from
            # the neck still in sight: where the new garment covers the skin of an old
            # scoop or tank neckline, that skin casts nothing (it made a grey bib across a
            # crew neck's chest).
            neck = (lab == LIP["neck"]) & (level < np.float32(0.15 * sw)) & ~garment_area
            neck_zone = feather(head | neck, 0.0)
            collar = soft_shadow(neck_zone, 0.03 * sw, (0.0, 0.015 * sw))
            shade *= 1 - 0.25 * k * collar
            # An arm in front shades the torso beside it; in a sleeve it is under the cloth
            # (its shadow there drew the arm's outline through the sleeve).
            arm_sh = soft_shadow(arms_a, 0.03 * sw, (0.0, 0.01 * sw))
            sl_sh = soft_shadow(sleeve_alpha_total, 0.025 * sw, (0.0, 0.01 * sw))
            t_shade = shade * (1 - 0.22 * k * arm_sh * (1 - arms_a))
            t_shade *= 1 - 0.25 * k * sl_sh * (1 - sleeve_alpha_total)
            pits = np.zeros((bh, bw), np.float32)
            for sp in plan.sleeves:
                p = sp.body_points[2] - origin  # root inner = armpit on the body
                cv2.circle(pits, (round(p[0]), round(p[1])), max(1, round(0.05 * sw)), 1.0, -1)
            if plan.sleeves:
                pits = feather(pits, 0.06 * sw)
                t_shade *= 1 - 0.3 * k * np.minimum(pits * 1.5, 1.0)
        else:
            t_shade = shade
        out = base  # float32, the removal's own
        # The garment's shadow on the body under the hem and around the sleeves.
        if k > 0:
            # Arms in front of the torso part receive no shadow from it; the sleeves'
            # shadow falls on the arms below them.
            cover = np.maximum(t_alpha, sleeve_alpha_total)
            cast = np.maximum(
                soft_shadow(t_alpha, 0.025 * sw, (0.0, 0.02 * sw)) * (1 - arms_a),
                soft_shadow(sleeve_alpha_total, 0.025 * sw, (0.0, 0.02 * sw)),
            )
            on_body = (lab > 0).astype(np.float32)
            out *= (1 - 0.3 * k * cast * (1 - cover) * on_body)[..., None]
        # Each layer is blended only over the box where its alpha is above 0: elsewhere it
        # changes nothing (and a white canvas there would cost the highlight roll-off).
        tb = _bbox(t_alpha > 0)
        if tb is not None:
            ys_, xs_ = slice(tb[0], tb[1]), slice(tb[2], tb[3])
            t_col = apply_gain(t_rgb[ys_, xs_], gain[ys_, xs_] * t_shade[ys_, xs_])
            o = out[ys_, xs_]
            o += (t_col - o) * t_alpha[ys_, xs_, None]
        for (ys_, xs_), s_rgb, a in layers:
            s_col = apply_gain(s_rgb, gain[ys_, xs_] * shade[ys_, xs_])
            o = out[ys_, xs_]
            o += (s_col - o) * a[..., None]
        # Head last (hair over the garment; its pixels are the photo's own).
        hy, hx = np.nonzero(head_a > 0.5)
        a = head_a[hy, hx, None]
        out[hy, hx] += (crop[hy, hx].astype(np.float32) - out[hy, hx]) * a

        tryon = img.copy()
        tryon[y0:y1, x0:x1] = _to_u8(out)
        warped = np.full_like(img, 255)
        comp = np.zeros((h, w), np.uint8)
        cover = np.maximum(t_alpha, sleeve_alpha_total)
        # The warped garment on white: computed where any of it is (elsewhere it is white).
        wmask = np.maximum(t_part.astype(np.float32) / 255, sleeve_alpha_total)
        wb = _bbox(wmask > 0)
        if wb is not None:
            wy0, wy1, wx0, wx1 = wb
            wc = t_rgb[wy0:wy1, wx0:wx1].astype(np.float32)
            for (ys_, xs_), s_rgb, a in layers:
                # The layer's box within the warped garment's (its alpha is 0 outside both).
                ly0, ly1 = max(ys_.start, wy0), min(ys_.stop, wy1)
                lx0, lx1 = max(xs_.start, wx0), min(xs_.stop, wx1)
                if ly1 <= ly0 or lx1 <= lx0:
                    continue
                src = (
                    slice(ly0 - ys_.start, ly1 - ys_.start),
                    slice(lx0 - xs_.start, lx1 - xs_.start),
                )
                dst = wc[ly0 - wy0 : ly1 - wy0, lx0 - wx0 : lx1 - wx0]
                dst += (s_rgb[src].astype(np.float32) - dst) * a[src][..., None]
            wm = wmask[wy0:wy1, wx0:wx1, None]
            np.multiply(wc, wm, out=wc)  # wc * wm + 255 * (1 - wm), without temporaries
            np.add(wc, 255 * (1 - wm), out=wc)
            warped[y0 + wy0 : y0 + wy1, x0 + wx0 : x0 + wx1] = _to_u8(wc)
        comp[y0:y1, x0:x1] = _to_u8(cover * 255)
        notes = tuple(sorted(set(body.notes) | set(meta.get("notes", ())) & {"hips-estimated"}))
        return RenderOutput(tryon=tryon, warped_cloth=warped, composition_mask=comp, notes=notes)


def _worn(cloth, item: str) -> tuple[GarmentGeometry, np.ndarray]:
    """A garment's geometry, and its mask without the inside of its back: seen through
    the front neckline in the product photo, that fabric is behind the neck on a person.
    The geometry is read from the whole silhouette (the neck sides are the back's)."""
    geom = garment_geometry(cloth.mask, item)
    worn = cloth.mask.copy()
    back = inside_of_back(cloth.image, cloth.mask, geom)
    if back.any():
        worn[back] = 0
        # The back's neckband beside it is a sliver that hangs in the air once the inside
        # is gone: slivers thinner than a hundredth of the garment's width next to the
        # removed inside go with it.
        k = max(3, round(0.01 * geom.width) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        opened = cv2.morphologyEx(worn, cv2.MORPH_OPEN, kernel)
        near = cv2.dilate(back.view(np.uint8), kernel, iterations=2) > 0
        worn[near & (opened < 128)] = 0
    return geom, worn


def _hard(mask: np.ndarray) -> np.ndarray:
    """(H, W) uint8 0..255 -> uint8 {0, 255}: 255 where the mask is at least 128."""
    return cv2.threshold(mask, 127, 255, cv2.THRESH_BINARY)[1]


class _AssetMemo:
    """Results computed from one asset object (a garment's mask, a person), kept while
    that object lives, for the last `size` objects. Keyed by the object's identity and
    checked through a weak reference, so a new object at a recycled address is never
    taken for an old one; assets are read-only, so identity is content. Exceptions are
    not kept (each pair reports its own)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: dict[int, tuple[weakref.ref, object]] = {}

    def get(self, obj, make):
        key = id(obj)
        hit = self._items.pop(key, None)
        if hit is not None and hit[0]() is obj:
            self._items[key] = hit  # most recent last
            return hit[1]
        value = make()
        self._items[key] = (weakref.ref(obj), value)
        while len(self._items) > self.size:
            self._items.pop(next(iter(self._items)))
        return value

    def __getstate__(self) -> dict:
        # A renderer sent to another process starts with an empty memo (weak references
        # do not pickle, and the objects they name stay behind).
        return {"size": self.size}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["size"])


#: Above the chest, cloth beyond the person's outline fades out over this many shoulder
#: widths of rows: a cut, a little softened. A fifth of a shoulder width drew the top of a
#: sleeve standing out beside the shoulder as an airbrushed halo over the background.
SHOULDER_FADE = 0.06


def _on_shoulders(
    person: np.ndarray, level: np.ndarray, until: float, sw: float, fsig: float
) -> np.ndarray:
    """(H, W) float32 0..1 over a crop: 1 below level `until`; above it, the person's
    outline (`person`, (H, W) bool) grown by a fiftieth of a shoulder width and feathered,
    blended over `SHOULDER_FADE`.
    `level`: `_levels` of the crop."""
    # 0 above `SHOULDER_FADE` over `until`, 1 from `until` down.
    fade = SHOULDER_FADE * sw
    ramp = np.clip((level - np.float32(until - fade)) * np.float32(1.0 / fade), 0.0, 1.0)
    # Only where the ramp is below 1 does the outline count: it is feathered over those
    # rows and as many more as the blur reaches (the same values as over the whole crop).
    box = _bbox(ramp < 1.0)
    if box is None:
        return ramp
    sigma, r = max(fsig, 0.5), max(1, round(0.02 * sw))
    h = person.shape[0]
    # The rows the blur reaches, and those the dilation reaches from them.
    m = h if sigma > REDUCE_ABOVE else _reach(sigma)
    y0, y1 = max(0, box[0] - m), min(h, box[1] + m)
    g0, g1 = max(0, y0 - r - 1), min(h, y1 + r + 1)
    grown = _dilate(person[g0:g1].astype(np.uint8), r)[y0 - g0 : y1 - g0]
    out = ramp.copy()
    out[y0:y1] = np.maximum(feather(grown, sigma), ramp[y0:y1])
    return out


#: The torso part's top edge between the neck and the shoulder seams is lifted onto the
#: person's outline where it lies at most this far below it (shoulder widths), the rows
#: down to `REST_BAND` below it stretched to cover the gap.
REST_GAP, REST_BAND = 0.1, 0.15
#: ... from this far off the neck's centre line (shoulder widths), in full from the second.
REST_FROM = (0.2, 0.35)


def _rest_on_outline(
    mx, my, t_part, top_of, body: Body, origin: np.ndarray
) -> tuple[int, int, int, int] | None:
    """Lift the torso part's top edge onto the shoulders' outline, in place on the backward
    maps `mx`, `my` ((h, w) float32 canvas coordinates of each crop pixel); the box (y0,
    y1, x0, x1) of the maps that moved, None when nothing did. A garment's shoulder line
    is straighter than a body's (the trapezius rises in a curve towards the neck), so
    between its neck and its seams it lies below
    the outline of the old top's shoulders, and a wedge of skin showed there above a tee.
    `top_of`: (h, w) bool, what the outline is read off (the old top, head excluded);
    `t_part`: where the torso part lands now. Columns near the neck's centre line (the
    neckline's, which stays at the neck's base) and beyond the seams are left as they
    are, the lift fading in outwards from the neck sides; the gap is smoothed across
    columns. Rows move by less than a pixel per row: the print is stretched, not torn."""
    h, w = t_part.shape
    sw = body.sw
    xs = np.arange(w, dtype=np.float64) + float(origin[0])
    off = np.abs(xs - float(body.shoulder_mid[0]))
    cols = (off >= REST_FROM[0] * sw) & (off <= (0.5 + SEAM_OUT) * sw)
    on = t_part >= 128
    has_g, has_o = on.any(0), top_of.any(0)
    cols &= has_g & has_o
    if not cols.any():
        return None
    yt = np.argmax(on, axis=0).astype(np.float64)
    yo = np.argmax(top_of, axis=0).astype(np.float64)
    gap = np.where(cols, yt - yo, 0.0)
    gap = np.where((gap > 0) & (gap <= REST_GAP * sw), gap, 0.0)
    # smooth across columns (a parse's ragged outline must not make a ragged edge)
    k = max(3, int(0.04 * sw) | 1)
    gap = cv2.blur(gap.astype(np.float32)[None], (k, 1))[0].astype(np.float64)
    # The lift fades in outwards from the neck sides (the garment's highest points on
    # each side of the neck: the neckband's corners), so no step rises beside them.
    start = np.full(w, REST_FROM[0] * sw)
    sides = np.sign(xs - float(body.shoulder_mid[0]))
    for side in (-1.0, 1.0):
        this = (sides == side) & has_g & (off < 0.45 * sw)
        if this.any():
            i = np.flatnonzero(this)[int(np.argmin(yt[this]))]
            start = np.where(sides == side, max(off[i], REST_FROM[0] * sw), start)
    taper = np.clip((off - start) / ((REST_FROM[1] - REST_FROM[0]) * sw), 0, 1)
    gap = np.where(cols, gap * taper, 0.0)
    if not (gap >= 1.0).any():
        return None
    band = max(2.0, REST_BAND * sw)
    lifted = gap >= 1.0
    # Rows from the lifted top down to yt + band sample the maps' rows yt .. yt + band
    # (linearly between rows), over the rows and columns that move only.
    c0, c1 = int(np.flatnonzero(lifted)[0]), int(np.flatnonzero(lifted)[-1]) + 1
    r0 = max(0, int(np.floor((yt - gap)[lifted].min())))
    r1 = min(h, int(np.ceil((yt + band)[lifted].max())) + 1)
    ys = np.arange(r0, r1, dtype=np.float64)[:, None]
    yt_c, gap_c = yt[None, c0:c1], gap[None, c0:c1]
    t = (ys - (yt_c - gap_c)) / (gap_c + band)
    move = (gap_c >= 1.0) & (t >= 0.0) & (t < 1.0)
    src = np.clip(np.where(move, yt_c + t * band, ys), 0, h - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, h - 1)
    f = (src - lo).astype(np.float32)
    cc = np.broadcast_to(np.arange(c0, c1), src.shape)
    for m in (mx, my):
        v = m[lo, cc] * (1 - f) + m[hi, cc] * f
        m[r0:r1, c0:c1] = np.where(move, v, m[r0:r1, c0:c1])
    return r0, r1, c0, c1


def _to_u8(a: np.ndarray) -> np.ndarray:
    """float32 0..255 (any shape) -> uint8, rounded half up and clipped; `a` is consumed
    (it is rounded in place: no temporaries of a photo's size)."""
    np.add(a, np.float32(0.5), out=a)
    np.clip(a, 0, 255, out=a)
    return a.astype(np.uint8)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of an (H, W) bool mask's true pixels; None if there are none."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _feather_in_box(
    alpha: np.ndarray, box: tuple[int, int, int, int], shape: tuple[int, int], sigma: float
) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """`feather` of a layer that is 0 outside `box` (y0, y1, x0, x1) of a crop of `shape`
    (H, W), computed over that box grown by twice the blur's reach (clipped to the crop):
    (the grown box, its (h, w) float32 alpha), the values `feather` gives over the whole
    crop there, and 0 beyond it. `alpha`: (y1 - y0, x1 - x0) float32 0..1. A blur wide
    enough for `gaussian` to reduce the image is done over the whole crop (its reduction
    grid is the crop's)."""
    h, w = shape
    y0, y1, x0, x1 = box
    m = max(h, w) if sigma > REDUCE_ABOVE else 2 * _reach(sigma)
    gy0, gy1, gx0, gx1 = max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)
    grown = np.zeros((gy1 - gy0, gx1 - gx0), np.float32)
    grown[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0] = alpha
    return (gy0, gy1, gx0, gx1), feather(grown, sigma)


def _reach(sigma: float) -> int:
    """How far (px) `feather`'s blur of `sigma` (at most `REDUCE_ABOVE`) reaches, with a
    pixel to spare: OpenCV's kernel for float images has 2 * round(4 sigma) + 1 taps."""
    return int(np.ceil(4 * sigma)) + 2


def _feather_mask(mask: np.ndarray, sigma: float) -> np.ndarray:
    """`feather` of an (H, W) bool or float32 0..1 mask that is mostly 0: blurred only over
    the box of its nonzero pixels grown by twice the blur's reach (`_feather_in_box`), the
    same values as over all of it. (H, W) float32."""
    box = _bbox(mask > 0)
    if box is None:
        return np.zeros(mask.shape, np.float32)
    y0, y1, x0, x1 = box
    part = mask[y0:y1, x0:x1].astype(np.float32)
    (gy0, gy1, gx0, gx1), a = _feather_in_box(part, box, mask.shape, sigma)
    out = np.zeros(mask.shape, np.float32)
    out[gy0:gy1, gx0:gx1] = a
    return out


def _backward_maps(
    backward: ThinPlateSpline,
    out_size: tuple[int, int],
    *,
    step: int,
    origin: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """`vton.geometry.tps.backward_maps`, the same float32 maps, evaluated faster: on a
    grid the squared distances to the control points are sums of a row term and a column
    term, so they are formed from (rows, N) and (columns, N) tables instead of from every
    grid point's coordinates (a fourth of the cost at a 1024 px photo)."""
    xs, ys = grid_samples(out_size, step, origin)
    gh, gw = ys.size, xs.size
    px = (xs - backward.centre[0]) / backward.spread
    py = (ys - backward.centre[1]) / backward.spread
    c = backward.control
    d2 = ((py[:, None] - c[None, :, 1]) ** 2)[:, None, :] + ((px[:, None] - c[None, :, 0]) ** 2)[
        None, :, :
    ]
    with np.errstate(divide="ignore", invalid="ignore"):
        kern = d2 * np.log(d2)
    kern[d2 == 0] = 0.0
    p = np.stack(np.broadcast_arrays(px[None, :], py[:, None]), -1).reshape(-1, 2)
    coarse = kern.reshape(-1, c.shape[0]) @ backward.weights + p @ backward.affine[1:]
    return expand_grid((coarse + backward.affine[0]).reshape(gh, gw, 2), out_size, step)


def _push_out(
    img: np.ndarray, mask: np.ndarray, sigma_frac: float = 0.02
) -> tuple[np.ndarray, tuple[float, float]]:
    """The colours of the garment pushed out beyond its edge, on a quarter-size copy of the
    canvas: what a warp that samples just off the garment should see instead of the
    backdrop (normalised convolution of the garment's inner pixels: its edge is blended
    with the backdrop and stays out). Returns the (h', w', 3) uint8 image and its scale
    (x, y) from canvas pixels."""
    h, w = mask.shape
    size = (max(2, round(w * 0.25)), max(2, round(h * 0.25)))
    m = cv2.resize(mask, size, interpolation=cv2.INTER_AREA)
    m = (m >= 250).astype(np.float32)
    c = cv2.resize(img, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    sig = max(1.0, sigma_frac * size[1])
    # Near the edge the nearest colours; further out (the gap between a sleeve and the
    # torso in a flat lay, which a sleeve's warp samples at the armpit) those of the same
    # blur on coarser and coarser copies: no pixel a warp may sample is left the
    # backdrop's white.
    fill = _normalised_fill(c, m, sig)
    fill = np.where(m[..., None] > 0, c, fill)
    return np.clip(fill + 0.5, 0, 255).astype(np.uint8), (size[0] / w, size[1] / h)


def _normalised_fill(c: np.ndarray, m: np.ndarray, sig: float) -> np.ndarray:
    """(h, w, 3) float32: the colours `c` where `m` (0/1 float32) is 1, normalised-convolved
    (Gaussian `sig`) outwards; where that blur reaches nothing, the same on a half-size
    copy, and so on: every pixel gets the colours of the nearest part of the garment."""
    cm = c * m[..., None]
    num = cv2.GaussianBlur(cm, (0, 0), sig)
    den = cv2.GaussianBlur(m, (0, 0), sig)
    reached = den > 1e-3
    fill = np.full(c.shape, 255.0, np.float32)
    fill[reached] = num[reached] / den[reached, None]
    h, w = m.shape
    if reached.all() or not reached.any() or min(h, w) < 4:
        return fill
    half = (max(1, w // 2), max(1, h // 2))
    m_half = cv2.resize(m, half, interpolation=cv2.INTER_AREA)
    c_half = (
        cv2.resize(cm, half, interpolation=cv2.INTER_AREA) / np.maximum(m_half, 1e-6)[..., None]
    )
    coarse = _normalised_fill(c_half, (m_half > 0).astype(np.float32), sig)
    up = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR)
    fill[~reached] = up[~reached]
    return fill


def _dilate(m: np.ndarray, r: int) -> np.ndarray:
    if r <= 0:
        return m
    return cv2.dilate(m, disc(r))

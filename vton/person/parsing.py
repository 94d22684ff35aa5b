"""Human parsing: a LIP label map for a person photo.

Two back-ends behind one interface (`HumanParser`):

`MediaPipeParser`, the embedded default, estimates the labels from MediaPipe's bundled
models only (pose keypoints and person mask from `vton.person.pose`, and the bundled face
mesh). It is a set of geometric rules, not a trained parser; each label is made this way:

- 13 face: the convex hull of the face mesh's face-oval landmarks (the mesh runs on a crop
  around the head, scaled up, so that the small faces of full-body shots are found). If the
  mesh finds no face, an ellipse from the eyes, ears and nose; if those are missing too (a
  person seen from behind) there is no face, and the head is all hair.
- 2 hair: person-mask pixels above the chin, within 0.8 shoulder widths of the head's centre,
  that are not face. A hat is labelled hair (1 hat is never estimated). Hair falling below
  the chin is hair where it is joined to the hair above and coloured like it, nearer its
  colour than the face's and the top's (`_hair_below_chin`); where the top's colour is not
  known or is the hair's (black hair on a black top), it is labelled as the clothes.
- 5 upper-clothes / 9 pants / 12 skirt, the waistline: the torso's horizontal bands from
  the chest to below the hips, each summarised by its colour (CIELAB) and texture (mean
  brightness gradient), are split where the clothes change (`_waistline`: the change
  point of the band sequence, then refined column by column, so a curved hem is
  followed). Above it is the top, below it the lower garment; without a clear change (a
  dress, a long coat) or without a neck keypoint the line is the hips', and without hips
  in the photo everything below the chin is the top. Long sleeves hanging beside the lower
  garment stay upper-clothes (arm pixels below the line coloured like the top). The lower
  garment is a skirt when, down the line between the legs, it ends while the legs' own
  lines are no longer covered by it (bare legs below a hem); trousers are still on the legs
  where the legs part; a garment reaching the photo's bottom between the legs (wide
  trousers, a maxi skirt, a photo cut at the thighs) cannot be told and is pants. Dress
  (6), coat (7), jumpsuit (10) and the small items (3 glove, 4 sunglasses, 8 socks,
  11 scarf) are never produced: a dress is labelled as a top and a skirt or pants.
- 20 neck: skin joined to the chin, down to the neckline (a V or scoop neckline included),
  within 0.45 shoulder widths of the neck keypoint and 0.6 below the shoulder line
  (CP-VTON+'s extra label; see `vton.person.labels`). Bare skin elsewhere on the torso
  (a midriff between a crop top and the lower garment, bare shoulders, a low back) takes
  the same neck/skin label: it is skin, not the top, and must not be removed with it.
  Not when the chest itself is skin-coloured (a nude or beige top, which the colour
  model cannot tell from skin): then torso skin stays the top's.
- 14 left-arm, 15 right-arm (the person's own left and right, as in COCO-18 names):
  skin pixels inside capsules drawn along shoulder-elbow-wrist and on past the wrist for
  the hand. Sleeves, sheer or dark ones included, are not skin and stay upper-clothes.
- 16 left-leg, 17 right-leg: skin pixels below the waistline inside capsules along
  hip-knee-ankle, in rows where the capsule is mostly skin (a bare leg is skin across its
  width). 18 left-shoe, 19 right-shoe: non-skin mask pixels around and below each ankle.
- 0 background: outside the person mask. Every mask pixel gets a non-zero label, so the
  label map's body shape (`parse > 0`, CP-VTON's shape) is the person mask.

"Skin" is a per-photo colour model (`_skin`) learnt on the face's inner pixels (or, when
the photo has no usable face, on skin-range pixels of the hands and neck): hue (YCrCb
chroma across the direction from grey to the face's colour) within 3 robust standard
deviations of the face's, saturation from 0.4 to 1.6 times the face's, brightness at
least 0.45 of the face's, so shaded skin is skin and black, white, cream or sheer dark
fabric is not; then a pixel is skin only where most of the person's pixels around it are
(`_clean_skin`), so the skin-like specks of a print are not. Without any reference, a
fixed skin range. A photo without colour (grayscale) has no skin cue: there the arms are
only the hands (past the wrists), the legs are pants and there is no neck.
"Above", "below" and the lines are image rows: the rules assume an upright person, as in
catalog photos. Cost: about 25 ms (p90 45 ms) for a 1024x768 photo, labelled at 512 px.

`OnnxHumanParser` runs a real LIP- or ATR-trained parser exported to ONNX (for example
Self-Correction Human Parsing), whose path comes from the configuration; `make_parser`
builds either from that setting.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from vton.digest import DIGEST_CHARS, file_sha256
from vton.errors import CheckpointError
from vton.geometry.capsules import capsule_mask, disc
from vton.person.labels import LIP, NECK, labels_to_lip
from vton.person.mediapipe_graphs import PerThread, mediapipe_solution
from vton.person.pose import FaceBox, PoseResult

__all__ = [
    "HumanParser",
    "MediaPipeParser",
    "OnnxHumanParser",
    "make_parser",
    "estimate_labels",
    "face_ellipse",
    "fit_labels_to_mask",
    "FACE_OVAL",
]

#: Face-mesh landmark ids on the face's outline (MediaPipe `FACEMESH_FACE_OVAL`).
FACE_OVAL = (
    10, 21, 54, 58, 67, 93, 103, 109, 127, 132, 136, 148, 149, 150, 152, 162, 172, 176, 234,
    251, 284, 288, 297, 323, 332, 338, 356, 361, 365, 377, 378, 379, 389, 397, 400, 454,
)  # fmt: skip
#: Fixed skin chroma range (YCrCb), used when the photo has no usable face to learn from.
SKIN_CR = (133.0, 180.0)
SKIN_CB = (77.0, 135.0)
#: Without a face to learn from, skin is at least this bright (YCrCb Y, 0..255).
SKIN_MIN_Y = 40.0
#: Skin is at least this share of the face's median brightness: shaded arms stay skin,
#: black and sheer black fabric (whose chroma is near grey and unreliable) does not.
SKIN_MIN_LUMA = 0.45
#: Skin's saturation (chroma distance from grey) varies from this share below to this
#: share above the reference skin's (shade, a flush, make-up); grey and near-grey fabric
#: (white, cream, black) is below it, saturated reds above it.
SKIN_SAT_RANGE = (0.6, 0.6)
#: A skin-coloured pixel is skin only where at least this share of the person's pixels
#: around it are skin-coloured too (`_clean_skin`).
SKIN_MIN_SHARE = 0.55
#: Width of the rim along the person's outline taken for arm next to an arm's skin (in
#: shoulder widths; `estimate_labels`).
ARM_RIM = 0.05
#: A top reaches at most this far above the shoulder joints (shoulder widths) outside the
#: neck's half width `NECK_HALF` (shoulder widths) from its centre line.
TOP_ABOVE_SHOULDERS, NECK_HALF = 0.2, 0.25
#: The torso's upper and lower runs of bands must differ by at least this distance in
#: `_features` units (CIELAB on OpenCV's 0..255 scale) and explain at least this share of
#: the bands' spread, or the torso is taken to be one garment (`_waistline`).
WAIST_MIN_CHANGE = 20.0
WAIST_MIN_GAIN = 0.25
#: Hair below the chin is looked for only when it differs from the top by this much
#: (CIELAB, OpenCV's 0..255 scale).
HAIR_MIN_CONTRAST = 25.0
#: The texture channel's weight against the colour channels (`_features`).
TEXTURE_WEIGHT = 0.5

_UPPER, _PANTS, _SKIRT = LIP["upper-clothes"], LIP["pants"], LIP["skirt"]
_HAIR, _FACE = LIP["hair"], LIP["face"]
#: (shoulder, elbow, wrist) COCO-18 ids and label of each arm; (hip, knee, ankle) of each leg.
_ARMS = ((5, 6, 7, LIP["left-arm"]), (2, 3, 4, LIP["right-arm"]))
_LEGS = (
    (11, 12, 13, LIP["left-leg"], LIP["left-shoe"]),
    (8, 9, 10, LIP["right-leg"], LIP["right-shoe"]),
)


class HumanParser(Protocol):
    """Makes a LIP label map. `id` names the back-end and its settings (it keys assets)."""

    id: str

    def parse(self, rgb: np.ndarray, pose: PoseResult, item: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB photo and its pose -> (H, W) uint8 LIP ids (0..20)."""
        ...


def _pt(kp: np.ndarray, i: int) -> np.ndarray | None:
    return kp[i, :2].astype(np.float64) if kp[i, 2] > 0 else None


def face_ellipse(kp: np.ndarray) -> np.ndarray | None:
    """A face outline from the head keypoints, (N, 2) float32 points, or None.

    Width from the ears (or 2.3 eye distances); height 1.3 widths; centred between the eyes
    and the nose. For photos where the face mesh finds no face.
    """
    nose, reye, leye, rear, lear = (_pt(kp, i) for i in (0, 14, 15, 16, 17))
    eyes = [p for p in (reye, leye) if p is not None]
    if nose is None and not eyes:
        return None
    if rear is not None and lear is not None:
        width = float(np.hypot(*(lear - rear)))
    elif reye is not None and leye is not None:
        width = 2.3 * float(np.hypot(*(leye - reye)))
    elif kp[2, 2] > 0 and kp[5, 2] > 0:
        width = 0.45 * float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    else:
        return None
    if width < 2:
        return None
    anchor = [*eyes, nose] if nose is not None else eyes
    cx, cy = np.mean(anchor, axis=0)
    a, b = width / 2, 0.65 * width
    t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    return np.stack([cx + a * np.cos(t), cy + 0.15 * b + b * np.sin(t)], 1).astype(np.float32)


def _skin(
    ycrcb: np.ndarray, m: np.ndarray, face: np.ndarray | None, bare: np.ndarray | None = None
) -> np.ndarray | None:
    """Boolean skin-colour map over the person mask `m`; None for a photo without colour,
    where skin cannot be told from cloth.

    The model is learnt per photo: chroma within 3 robust standard deviations of the
    reference skin's, brightness at least `SKIN_MIN_LUMA` of its median (shaded skin is
    still skin; black and sheer black fabric, whose chroma is near grey and unreliable, is
    not). The reference is the face's inner part without its darkest pixels (eyes, brows,
    nostrils) and highlights; without a usable face (a photo cut at the chin), the
    pixels in the fixed skin range within `bare` (where skin is likely: the hands, the
    neck); without either, the fixed range itself. Pixel by pixel: `_clean_skin` removes
    the skin-like specks of prints.
    """
    y = ycrcb[..., 0].astype(np.float32)
    cr = ycrcb[..., 1].astype(np.float32)
    cb = ycrcb[..., 2].astype(np.float32)
    sub = m[::3, ::3]  # every 9th pixel is plenty to tell colour from grey
    chroma = np.maximum(np.abs(cr[::3, ::3][sub] - 128), np.abs(cb[::3, ::3][sub] - 128))
    if chroma.size == 0 or float(np.percentile(chroma, 99)) < 4:
        return None
    fixed = (cr >= SKIN_CR[0]) & (cr <= SKIN_CR[1]) & (cb >= SKIN_CB[0]) & (cb <= SKIN_CB[1])
    fixed &= y >= SKIN_MIN_Y
    ref = None
    if face is not None and int(face.sum()) >= 50:
        r = max(1, round(0.06 * np.sqrt(face.sum())))
        ref = cv2.erode(face.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
        if int(ref.sum()) < 50:
            ref = face
    elif bare is not None and int((bare & fixed & m).sum()) >= 50:
        ref = bare & fixed & m
    if ref is None:
        return fixed & m
    fy, fcr, fcb = y[ref], cr[ref], cb[ref]
    lo, hi = np.percentile(fy, (15, 98))
    keep = (fy >= lo) & (fy <= hi)
    fy, fcr, fcb = fy[keep], fcr[keep], fcb[keep]
    mcr, mcb, my = float(np.median(fcr)), float(np.median(fcb)), float(np.median(fy))
    # Chroma relative to the reference, split along the direction from grey to the
    # reference colour (saturation, which light and skin thickness change a lot) and
    # across it (hue, which they change little).
    dx, dy = mcr - 128.0, mcb - 128.0
    sat = max(float(np.hypot(dx, dy)), 1.0)
    ux, uy = dx / sat, dy / sat
    along = (cr - mcr) * ux + (cb - mcb) * uy
    across = (cb - mcb) * ux - (cr - mcr) * uy
    f_along = (fcr - mcr) * ux + (fcb - mcb) * uy
    f_across = (fcb - mcb) * ux - (fcr - mcr) * uy
    s_along = max(1.4826 * float(np.median(np.abs(f_along))), 3.0)
    s_across = max(1.4826 * float(np.median(np.abs(f_across))), 3.0)
    skin = np.abs(across) <= 3 * s_across
    # Never nearer grey than 40 % of the reference's saturation, however spread its pixels:
    # white and black fabric are near grey.
    skin &= along >= -SKIN_SAT_RANGE[0] * sat
    skin &= along <= max(SKIN_SAT_RANGE[1] * sat, 3 * s_along)
    return skin & (y >= SKIN_MIN_LUMA * my) & m


def _box_mean(values: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Mean of `values` ((H, W) or (H, W, C) float32) over a k x k window, counting only
    pixels where `weight` (H, W) is set; 0 where the window holds none."""
    wf = weight.astype(np.float32)
    den = cv2.boxFilter(wf, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    v = values * (wf[..., None] if values.ndim == 3 else wf)
    num = cv2.boxFilter(v, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    den = np.maximum(den, 1e-6)
    return num / (den[..., None] if values.ndim == 3 else den)


def _clean_skin(skin: np.ndarray, m: np.ndarray, sw: float) -> np.ndarray:
    """`skin` kept only where most person pixels around are skin-coloured too
    (`SKIN_MIN_SHARE` of a window 0.08 shoulder widths across): bare arms and legs are
    whole regions of skin, the skin-like specks of a print are not."""
    k = max(3, round(0.08 * sw)) | 1
    return skin & (_box_mean(skin.astype(np.float32), m, k) >= SKIN_MIN_SHARE)


def _features(rgb: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(H, W, 4) float32 per-pixel clothing features: CIELAB (OpenCV's 0..255 scale) and
    the brightness gradient's magnitude (texture: a print or a knit against a plain
    fabric), the gradient left out along the person's outline, where it is the
    background's edge, not the cloth's."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    gx = cv2.Sobel(lab[..., 0], cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab[..., 0], cv2.CV_32F, 0, 1, ksize=3)
    inner = cv2.erode(m.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grad = np.sqrt(gx * gx + gy * gy) * inner * TEXTURE_WEIGHT
    return np.concatenate([lab, grad[..., None]], axis=2)


def _waistline(
    feat: np.ndarray,
    valid: np.ndarray,
    axis: tuple[np.ndarray, np.ndarray],
    sw: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the upper garment ends and the lower one begins, per column of the crop.

    The change point of the torso's horizontal bands: rows from the chest to below the
    hips, each summarised by the mean features (`_features`) of its `valid` pixels within
    0.35 shoulder widths of the torso's axis; the split into an upper and a lower run of
    rows with the least squared deviation from each run's mean, searched between 45 % of
    the way from neck to hips and 30 % of that length below the hips (a crop top, a
    high-waisted skirt, a top worn over the hips). Each column then moves its boundary
    within 12 % of the torso's length of that row to where its own pixels (features
    averaged over a small window, so a print counts as its average colour) change from
    nearer the upper run's mean to nearer the lower run's, and a running median across
    columns keeps the line smooth: hems curve and sit lower at the sides.

    axis: (neck, hips) (x, y) in the crop's pixels. Returns (boundary (W,) int row of each
    column's first lower-garment pixel, upper mean (4,), lower mean (4,)), or None when
    the torso shows no clear change (one garment from chest to thighs, a dress or a long
    coat, or too little torso).
    """
    bh, bw = valid.shape
    neck, hips = axis
    length = float(hips[1] - neck[1])
    if length < 8:
        return None
    y_top = int(max(0, round(neck[1] + 0.15 * length)))
    y_bot = int(min(bh, round(hips[1] + 0.45 * length)))
    ia = round(float(neck[1] + 0.45 * length)) - y_top
    ib = round(float(hips[1] + 0.3 * length)) - y_top
    if y_bot - y_top < 8:
        return None
    rows = np.arange(y_top, y_bot)
    t = (rows - neck[1]) / length
    axis_x = neck[0] + t * (hips[0] - neck[0])
    xs = np.arange(bw)[None, :]
    win = (np.abs(xs - axis_x[:, None]) <= 0.35 * sw) & valid[y_top:y_bot]
    f = feat[y_top:y_bot]
    wr = win.sum(1).astype(np.float64)
    sr = (f * win[..., None]).sum(1).astype(np.float64)
    if wr.sum() < 50:
        return None
    # Each band counts by its mean (weighted by its pixels): the split is judged by how
    # the bands differ, not by the spread within a print.
    mean_r = sr / np.maximum(wr, 1)[:, None]
    qr = wr * (mean_r * mean_r).sum(1)
    wc = np.concatenate([[0.0], np.cumsum(wr)])
    sc = np.concatenate([np.zeros((1, sr.shape[1])), np.cumsum(sr, 0)])
    qc = np.concatenate([[0.0], np.cumsum(qr)])
    ks = np.arange(max(ia, 1), min(ib, len(rows) - 1) + 1)
    if len(ks) == 0:
        return None
    w1, w2 = wc[ks], wc[-1] - wc[ks]
    ok = (w1 >= 0.1 * wc[-1]) & (w2 >= 0.1 * wc[-1])
    if not ok.any():
        return None
    s1, s2 = sc[ks], sc[-1] - sc[ks]
    w1s, w2s = np.maximum(w1, 1), np.maximum(w2, 1)
    cost = (qc[ks] - (s1 * s1).sum(1) / w1s) + ((qc[-1] - qc[ks]) - (s2 * s2).sum(1) / w2s)
    cost[~ok] = np.inf
    j = int(np.argmin(cost))
    k = int(ks[j])
    mu1, mu2 = s1[j] / w1s[j], s2[j] / w2s[j]
    total = qc[-1] - (sc[-1] ** 2).sum() / wc[-1]
    if np.hypot.reduce(mu1 - mu2) < WAIST_MIN_CHANGE or cost[j] > (1 - WAIST_MIN_GAIN) * total:
        return None
    split = y_top + k
    # Per column, within a band around the split row.
    delta = max(2, round(0.12 * length))
    b0, b1 = max(0, split - delta), min(bh, split + delta)
    kwin = max(3, round(0.06 * sw)) | 1
    fb = _box_mean(feat[b0:b1], valid[b0:b1], kwin)
    vb = valid[b0:b1]
    d1 = ((fb - mu1.astype(np.float32)) ** 2).sum(2)
    d2 = ((fb - mu2.astype(np.float32)) ** 2).sum(2)
    c = np.concatenate([np.zeros((1, bw), np.float32), np.cumsum((d1 - d2) * vb, 0)])
    col = b0 + np.argmin(c, 0)
    thin = vb.sum(0) < 0.25 * (b1 - b0)
    col[thin] = split
    r = max(1, round(0.08 * sw))
    padded = np.pad(col, r, mode="edge")
    col = np.median(np.lib.stride_tricks.sliding_window_view(padded, 2 * r + 1), 1)
    return col.round().astype(np.int64), mu1.astype(np.float32), mu2.astype(np.float32)


def _leg_x(kp: np.ndarray, leg: tuple, y: np.ndarray) -> np.ndarray | None:
    """x of a leg's axis (hip-knee-ankle, held vertical past its last visible joint) at
    rows `y` (photo pixels), or None when the hip is not visible."""
    pts = [p for p in (_pt(kp, i) for i in leg[:3]) if p is not None]
    if _pt(kp, leg[0]) is None or not pts:
        return None
    py = np.array([p[1] for p in pts])
    px = np.array([p[0] for p in pts])
    order = np.argsort(py)
    return np.interp(y, py[order], px[order])


def _is_skirt(
    lower: np.ndarray, body: np.ndarray, kp: np.ndarray, start: float, origin: np.ndarray
) -> bool:
    """Whether the lower garment (`lower`, (H, W) bool over the crop at `origin`; `body`
    the person mask there) is a skirt rather than trousers, from its outline between the
    legs.

    Down the line midway between the legs' axes from `start` (a photo row below the
    waistband), the garment ends somewhere (the legs part, or the photo ends). Trousers
    are still on both legs where it ends between them; a skirt has ended across the
    whole width there (bare legs below). A garment that reaches the bottom of the photo
    between the legs (wide trousers, a maxi skirt), or that ends where the person does (a
    photo cut there), cannot be told: pants, as before.
    """
    bh, bw = lower.shape
    y = np.arange(max(0, int(np.ceil(start - origin[1]))), bh, dtype=np.float64)
    if len(y) < 3:
        return False
    xl, xr = (_leg_x(kp, leg, y + origin[1]) for leg in _LEGS)
    if xl is None or xr is None:
        return False
    yi = y.astype(np.int64)
    mid = np.clip(np.round((xl + xr) / 2 - origin[0]).astype(np.int64), 0, bw - 1)
    on_mid = lower[yi, mid] | lower[yi, np.clip(mid - 1, 0, bw - 1)]
    on_mid |= lower[yi, np.clip(mid + 1, 0, bw - 1)]
    off = np.nonzero(~on_mid)[0]
    if len(off) == 0:
        return False
    i0 = int(off[0])
    if i0 == 0:
        return False  # no garment between the legs at all below the waist: not a skirt
    i1 = min(len(y), i0 + 4)
    cols = [np.clip(np.round(x[i0:i1] - origin[0]).astype(np.int64), 0, bw - 1) for x in (xl, xr)]
    on_legs = np.concatenate([lower[yi[i0:i1], c] for c in cols])
    in_body = np.concatenate([body[yi[i0:i1], c] for c in cols])
    if in_body.mean() < 0.5:
        return False  # the person ends there (cut by the frame): nothing to tell by
    return float(on_legs.mean()) < 0.5


def _hair_below_chin(
    rgb: np.ndarray,
    m: np.ndarray,
    hair: np.ndarray,
    face: np.ndarray,
    chin_y: float,
    head_x: float,
    sw: float,
    top_colour: np.ndarray | None,
) -> np.ndarray:
    """(H, W) bool: hair that falls below the chin (over the shoulders, down the chest).

    The hair above the chin (`hair`) gives a colour model (CIELAB median and robust
    spread, over colours averaged on a small window: hair is streaky); below the chin and
    within 0.9 shoulder widths of the head's centre, pixels within 3 spreads of it that
    are nearer the hair's colour than the face's and than the top's (`top_colour`, the
    chest's CIELAB), and are joined to the hair at the chin, are hair. Without the top's
    colour (a head-and-shoulders photo), or with hair within `HAIR_MIN_CONTRAST` of it
    (black on black), hair below the chin is not told apart and stays clothes.
    """
    out = np.zeros_like(m)
    if top_colour is None or int(hair.sum()) < 50 or int(face.sum()) < 50:
        return out
    # Only the head and the shoulders below it matter: work on that window.
    bh, bw = m.shape
    hy = np.nonzero(hair.any(1))[0]
    r0, r1 = int(hy[0]), int(min(bh, np.ceil(chin_y + 1.5 * sw) + 1))
    c0 = int(max(0, np.floor(head_x - 0.9 * sw)))
    c1 = int(min(bw, np.ceil(head_x + 0.9 * sw) + 1))
    if r1 <= r0 or c1 <= c0:
        return out
    win = (slice(r0, r1), slice(c0, c1))
    m, hair, face = m[win], hair[win], face[win]
    k = max(3, round(0.04 * sw)) | 1
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[win]), cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = _box_mean(lab, m | hair | face, k)
    if int(hair.sum()) < 50 or int(face.sum()) < 50:
        return out
    ref = lab[hair]
    med = np.median(ref, 0)
    if np.hypot.reduce(med - top_colour) < HAIR_MIN_CONTRAST:
        return out
    spread = np.maximum(1.4826 * np.median(np.abs(ref - med), 0), 4.0)
    skin_c = np.median(lab[face], 0)
    ys = np.arange(r0, r1)[:, None]
    xs = np.arange(c0, c1)[None, :]
    zone = m & (ys >= chin_y - 1) & (ys <= chin_y + 1.5 * sw) & (np.abs(xs - head_x) <= 0.9 * sw)
    d = ((lab - med) ** 2).sum(2)
    cand = zone & (np.abs(lab - med) <= 3 * spread).all(2) & (d < ((lab - skin_c) ** 2).sum(2))
    cand &= d < ((lab - top_colour) ** 2).sum(2)
    n, comp = cv2.connectedComponents((cand | hair).astype(np.uint8), connectivity=8)
    if n <= 1:
        return out
    ids = np.unique(comp[hair])
    out[win] = np.isin(comp, ids[ids > 0]) & cand
    return out


def _limbs(shape: tuple[int, int], segments: Sequence[tuple], origin: np.ndarray) -> np.ndarray:
    """(H, W) bool limb capsules over the crop at `origin`. Radii are rounded to whole
    pixels first: the rules have always drawn limbs 2 * round(r) px wide, and the label
    maps they give must not change with the shared rasteriser."""
    return capsule_mask(shape, [(p, q, max(1, round(float(r)))) for p, q, r in segments], origin)


def estimate_labels(
    rgb: np.ndarray,
    mask: np.ndarray,
    keypoints: np.ndarray,
    face_outline: np.ndarray | None,
) -> np.ndarray:
    """The rule-based LIP label map (rules in the module docstring).

    Parameters
    ----------
    rgb : (H, W, 3) uint8 RGB photo.
    mask : (H, W) uint8 {0, 255} person mask; labels are non-zero exactly inside it.
    keypoints : (18, 3) float32 COCO-18 (x, y, confidence) in the photo's pixels.
    face_outline : (N, 2) float points around the face in the photo's pixels, or None.

    Returns
    -------
    (H, W) uint8 LIP ids.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected (H, W, 3) uint8 rgb, got {rgb.shape} {rgb.dtype}")
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the photo {rgb.shape[:2]}")
    if keypoints.shape != (18, 3):
        raise ValueError(f"expected (18, 3) keypoints, got {keypoints.shape}")
    h, w = mask.shape
    labels = np.zeros((h, w), np.uint8)
    if not mask.any():
        return labels
    # Work inside the mask's bounding box: the rules only ever label mask pixels.
    rows, cols = np.nonzero(mask.any(1))[0], np.nonzero(mask.any(0))[0]
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    m = mask[y0:y1, x0:x1] > 0
    bh, bw = m.shape
    origin = np.array([x0, y0], np.float64)
    kp = keypoints
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])

    rs, ls = _pt(kp, 2), _pt(kp, 5)
    neck = _pt(kp, 1)
    if neck is None and rs is not None and ls is not None:
        neck = (rs + ls) / 2
    face = None
    if face_outline is not None and len(face_outline) >= 3:
        hull = cv2.convexHull(np.round(face_outline - origin).astype(np.int32))
        canvas = np.zeros((bh, bw), np.uint8)
        cv2.fillConvexPoly(canvas, hull, 1)
        face = canvas.astype(bool) & m
    if rs is not None and ls is not None:
        sw = float(np.hypot(*(ls - rs)))
    elif face_outline is not None:
        sw = 2.5 * float(np.ptp(face_outline[:, 0]))
    else:
        sw = 0.25 * max(bh, bw)
    sw = max(sw, 4.0)
    hips = [p for p in (_pt(kp, 8), _pt(kp, 11)) if p is not None]
    hip_y = float(np.mean([p[1] for p in hips])) if hips else None

    # Arm capsules, and the hands (past the wrists) and neck, where skin is likely.
    arm_segs, hands = [], []
    for sh_i, el_i, wr_i, arm_label in _ARMS:
        sh, el, wr = _pt(kp, sh_i), _pt(kp, el_i), _pt(kp, wr_i)
        segs = []
        if sh is not None and el is not None:
            segs.append((sh, el, 0.2 * sw))
        hand = None
        if el is not None and wr is not None:
            hand = (wr, wr + 0.45 * (wr - el), 0.16 * sw)
            hands.append(hand)
            segs += [(el, wr, 0.15 * sw), hand]
        arm_segs.append((segs, hand, arm_label))
    bare = _limbs((bh, bw), hands, origin) if hands else np.zeros((bh, bw), bool)
    if neck is not None:
        bare |= (np.abs(xs - neck[0]) <= 0.12 * sw) & (
            np.abs(ys - (neck[1] - 0.2 * sw)) <= 0.1 * sw
        )

    ycrcb = cv2.cvtColor(crop, cv2.COLOR_RGB2YCrCb)
    skin = _skin(ycrcb, m, face, bare)
    grey = skin is None
    skin = np.zeros_like(m) if skin is None else _clean_skin(skin, m, sw)

    arm_caps = []
    for segs, hand, arm_label in arm_segs:
        # No colour: only the hands (past the wrist), which are rarely covered.
        segs = ([hand] if hand is not None else []) if grey else segs
        if segs:
            arm_caps.append((_limbs((bh, bw), segs, origin), arm_label))
    caps_any = np.zeros((bh, bw), bool)
    for cap, _ in arm_caps:
        caps_any |= cap

    # The upper / lower garment boundary.
    labels_box = np.where(m, _UPPER, 0).astype(np.uint8)
    lower = np.zeros((bh, bw), bool)
    bare_torso = False
    top_colour = None  # CIELAB of the chest, the top's colour
    torso_len = 0.0
    if hip_y is not None:
        lower = m & (ys >= hip_y)
        if neck is not None:
            feat = _features(crop, m)
            hip_pt = np.mean(hips, axis=0)
            axis = (neck - origin, hip_pt - origin)
            length = torso_len = float(hip_pt[1] - neck[1])
            # A top of skin colour (nude, beige) is not told from skin: then skin in the
            # torso stays clothes, and counts in the torso's statistics.
            chest = (ys >= neck[1] + 0.15 * length) & (ys < neck[1] + 0.4 * length)
            chest = chest & (np.abs(xs - neck[0]) <= 0.35 * sw) & m & ~caps_any
            bare_torso = not grey and chest.any() and float(skin[chest].mean()) < 0.5
            if chest.any():
                top_colour = np.median(feat[chest & ~skin][:, :3], axis=0) if bare_torso else None
            valid = m & ~caps_any & (~skin if bare_torso else True)
            found = _waistline(feat, valid, axis, sw)
            if found is not None:
                bnd, mu_up, mu_low = found
                lower = m & (np.arange(bh)[:, None] >= bnd[None, :])
                # Long sleeves hang beside the lower garment: arm pixels below the line
                # that look like the top (features averaged over the arm) are sleeve.
                kwin = max(3, round(0.06 * sw)) | 1
                arm_px = lower & caps_any & ~skin
                if arm_px.any():
                    fa = _box_mean(feat, arm_px, kwin)[arm_px]
                    near_up = ((fa - mu_up) ** 2).sum(1) < ((fa - mu_low) ** 2).sum(1)
                    sleeve = np.zeros((bh, bw), bool)
                    sleeve[arm_px] = near_up
                    lower &= ~sleeve
    labels_box[lower] = _PANTS

    for leg_i, (hip_i, knee_i, ankle_i, leg_label, shoe_label) in enumerate(_LEGS):
        del leg_i
        hip, knee, ankle = _pt(kp, hip_i), _pt(kp, knee_i), _pt(kp, ankle_i)
        segs = []
        if hip is not None and knee is not None:
            segs.append((hip, knee, 0.28 * sw))
        if knee is not None and ankle is not None:
            segs.append((knee, ankle, 0.18 * sw))
        if segs and hip_y is not None:
            cap = _limbs((bh, bw), segs, origin) & lower
            # A bare leg is skin across its width; a print's skin-like specks are not.
            share = (cap & skin).sum(1) / np.maximum((cap & m).sum(1), 1)
            leg = cap & skin & (share >= SKIN_MIN_SHARE)[:, None]
            labels_box[leg] = leg_label
        if ankle is not None:
            foot = np.zeros((bh, bw), np.uint8)
            c = ankle - origin + (0, 0.12 * sw)
            centre = (round(float(c[0])), round(float(c[1])))
            cv2.circle(foot, centre, max(1, round(0.22 * sw)), 1, -1)
            shoe = foot.astype(bool) & m & ~skin & (ys >= ankle[1])
            labels_box[shoe] = shoe_label

    arm_any = np.zeros((bh, bw), bool)
    # The rim of a bare arm against a light backdrop is a blend of the two, which no skin
    # test takes: within an arm's capsule, the photo's outline next to the arm's skin is
    # arm too (else it stays "top" and a try-on removes it as an old sleeve).
    r = max(1, round(ARM_RIM * sw))
    rim = m & ~cv2.erode(m.astype(np.uint8), disc(r), borderValue=1).astype(bool)
    for cap, arm_label in arm_caps:
        arm = cap & (m if grey else skin)
        if not grey:
            near = cv2.dilate(arm.astype(np.uint8), disc(r)) > 0
            arm |= cap & rim & (labels_box == _UPPER) & near
        labels_box[arm] = arm_label
        arm_any |= arm

    # Head: above the chin, near the head's centre line.
    if face is not None and face.any():
        fy, fx = np.nonzero(face)
        chin_y, head_x = float(fy.max() + y0), float(fx.mean() + x0)
    else:
        nose = _pt(kp, 0)
        centre = nose if nose is not None else neck
        head_x = float(centre[0]) if centre is not None else None
        if nose is not None and neck is not None:
            chin_y = float(nose[1] + 0.45 * (neck[1] - nose[1]))
        elif neck is not None:
            chin_y = float(neck[1] - 0.3 * sw)
        else:
            chin_y = None
    if chin_y is not None and head_x is not None:
        head = m & (ys < chin_y) & (np.abs(xs - head_x) <= 0.8 * sw) & ~arm_any
        labels_box[head] = _HAIR
        if face is not None:
            labels_box[face] = _FACE
        if not grey and face is not None:
            hair_more = _hair_below_chin(
                crop, m & ~arm_any & ~face, labels_box == _HAIR, face, chin_y - y0,
                head_x - x0, sw, top_colour,
            )  # fmt: skip
            labels_box[hair_more] = _HAIR
        if rs is not None and ls is not None and neck is not None:
            # A top does not reach far above the shoulders away from the neck: what the
            # rules left "top" there (hair the colour test missed, beside the neck) is the
            # hair's, when it touches the hair.
            high = (ys < min(rs[1], ls[1]) - TOP_ABOVE_SHOULDERS * sw) & (
                np.abs(xs - neck[0]) > NECK_HALF * sw
            )
            stray = ((labels_box == _UPPER) & high).astype(np.uint8)
            n, comp = cv2.connectedComponents(stray, connectivity=8)
            if n > 1:
                hair_near = cv2.dilate((labels_box == _HAIR).astype(np.uint8), np.ones((3, 3)))
                ids = np.unique(comp[(hair_near > 0) & (stray > 0)])
                labels_box[np.isin(comp, ids[ids > 0])] = _HAIR
        if neck is not None and not grey:
            # The neck: skin joined to the chin, down to the neckline, near the neck.
            zone = (ys >= chin_y - 1) & (ys <= max(neck[1], chin_y) + 0.6 * sw)
            zone = zone & (np.abs(xs - neck[0]) <= 0.45 * sw)
            cand = (skin & zone & ~arm_any & (labels_box != _FACE)).astype(np.uint8)
            n, comp = cv2.connectedComponents(cand, connectivity=8)
            if n > 1:
                seed = cand.astype(bool) & (ys <= chin_y + 0.25 * sw)
                seed &= np.abs(xs - neck[0]) <= 0.25 * sw
                ids = np.unique(comp[seed])
                ids = ids[ids > 0]
                labels_box[np.isin(comp, ids)] = NECK
            # The neck's rim against a light backdrop, like an arm's: a blend no skin test
            # takes, left "top" above the shoulders (a try-on removed it, leaving a jagged
            # edge down the side of the neck). Not the rim of the top itself (a strap's
            # end on the shoulder's outline), which lies next to more of the top.
            if rs is not None and ls is not None:
                top = labels_box == _UPPER
                skin_lab = (labels_box == NECK) | (labels_box == _FACE)
                near = cv2.dilate(skin_lab.astype(np.uint8), disc(r)) > 0
                cloth = cv2.dilate((top & ~rim).astype(np.uint8), disc(r)) > 0
                above = (ys < max(rs[1], ls[1])) & (np.abs(xs - neck[0]) <= 0.45 * sw)
                labels_box[rim & near & ~cloth & above & top] = NECK
    if bare_torso:
        # Bare skin elsewhere on the torso (a midriff, a low back or neckline) is skin,
        # not the top: the neck/skin label.
        # Above the hips, skin below the waistline is a midriff only in rows that are
        # mostly skin (a bare band across the torso), not skin-like specks of the
        # lower garment (beige, tan).
        low = (labels_box == _PANTS) & (ys < hip_y) & ~caps_any
        band = (low & skin).sum(1) >= 0.5 * np.maximum(low.sum(1), 1)
        # ... and at least 3 % of the torso's length high: not a skin-coloured waistband.
        run = max(2, round(0.03 * torso_len))
        band = cv2.morphologyEx(
            band.astype(np.uint8)[:, None], cv2.MORPH_OPEN, np.ones((run, 1), np.uint8)
        )
        band = band[:, 0] > 0
        torso = (labels_box == _UPPER) | ((labels_box == _PANTS) & (ys < hip_y) & band[:, None])
        labels_box[torso & skin] = NECK
    if hip_y is not None and _is_skirt(labels_box == _PANTS, m, kp, hip_y, origin):
        labels_box[labels_box == _PANTS] = _SKIRT
    labels[y0:y1, x0:x1] = labels_box
    return labels


def fit_labels_to_mask(labels: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Upscale an (h, w) label map to the (H, W) `mask` {0, 255} (nearest), so that labels
    are non-zero exactly inside the mask: outside is 0, and mask pixels the small map
    missed take the largest id among their 5x5 neighbours (upper-clothes if none)."""
    h, w = mask.shape
    up = cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST_EXACT)
    inside = mask > 0
    up[~inside] = 0
    holes = inside & (up == 0)
    if holes.any():
        grown = cv2.dilate(up, np.ones((5, 5), np.uint8))
        up[holes] = grown[holes]
        up[inside & (up == 0)] = _UPPER
    return up


class MediaPipeParser:
    """The rule-based LIP estimate (module docstring) with MediaPipe's bundled face mesh,
    one graph per thread. Photos over `work_side` px are labelled at that size and the
    result fitted to the full-resolution mask (`fit_labels_to_mask`)."""

    id = "lip-estimate-mediapipe-0.10.21-v5"

    def __init__(self, mesh_size: int = 256, work_side: int = 512) -> None:
        self.mesh_size = mesh_size
        self.work_side = work_side
        self._mesh = PerThread(
            lambda: mediapipe_solution("face_mesh").FaceMesh(
                static_image_mode=True, max_num_faces=1
            )
        )

    def head_box(
        self, kp: np.ndarray, faces: Sequence[FaceBox], h: int, w: int
    ) -> tuple[int, int, int, int] | None:
        """Square crop (x0, y0, x1, y1) around this person's head, or None.

        From the detected face nearest the nose when there is one, else from the head
        keypoints; twice the face's size, as the face mesh's own detector expects.
        """
        nose = _pt(kp, 0)
        heads = [_pt(kp, i) for i in (0, 14, 15, 16, 17)]
        heads = [p for p in heads if p is not None]
        box = None
        if faces:
            ref = nose if nose is not None else (np.mean(heads, 0) if heads else None)
            if ref is not None:
                near = [f for f in faces if f.contains(ref[0], ref[1], margin=0.5)]
                if near:
                    f = near[0]
                    cx, cy, size = f.cx, (f.y0 + f.y1) / 2, 2.0 * max(f.width, f.height)
                    box = (cx, cy, size)
            elif len(faces) == 1:
                f = faces[0]
                box = (f.cx, (f.y0 + f.y1) / 2, 2.0 * max(f.width, f.height))
        if box is None:
            ellipse = face_ellipse(kp)
            if ellipse is None:
                return None
            cx, cy = ellipse.mean(0)
            size = 2.0 * float(max(np.ptp(ellipse[:, 0]), np.ptp(ellipse[:, 1])))
            box = (cx, cy, size)
        cx, cy, size = box
        half = max(size / 2, 8.0)
        x0, y0 = int(max(0, np.floor(cx - half))), int(max(0, np.floor(cy - half)))
        x1, y1 = int(min(w, np.ceil(cx + half))), int(min(h, np.ceil(cy + half)))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        return x0, y0, x1, y1

    def face_outline(self, rgb: np.ndarray, pose: PoseResult) -> np.ndarray | None:
        """(36, 2) float32 face-oval points in the photo's pixels from the face mesh, or None."""
        h, w = rgb.shape[:2]
        crop = self.head_box(pose.keypoints, pose.faces, h, w)
        if crop is None:
            return None
        x0, y0, x1, y1 = crop
        patch = rgb[y0:y1, x0:x1]
        n = self.mesh_size
        interp = cv2.INTER_AREA if max(patch.shape[:2]) > n else cv2.INTER_LINEAR
        patch = cv2.resize(patch, (n, n), interpolation=interp)
        result = self._mesh.get().process(np.ascontiguousarray(patch))
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([(lm[i].x, lm[i].y) for i in FACE_OVAL], np.float32)
        pts[:, 0] = pts[:, 0] * (x1 - x0) + x0
        pts[:, 1] = pts[:, 1] * (y1 - y0) + y0
        return pts

    def parse(self, rgb: np.ndarray, pose: PoseResult, item: str) -> np.ndarray:
        outline = self.face_outline(rgb, pose)
        if outline is None:
            outline = face_ellipse(pose.keypoints)
        h, w = rgb.shape[:2]
        f = min(1.0, self.work_side / max(h, w))
        if f >= 1.0:
            return estimate_labels(rgb, pose.mask, pose.keypoints, outline)
        # The rules work on regions many pixels wide: label a reduced copy, then fit the
        # result to the full-resolution mask.
        sw, sh = round(w * f), round(h * f)
        sx, sy = sw / w, sh / h
        small = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        small_mask = cv2.resize(pose.mask, (sw, sh), interpolation=cv2.INTER_AREA)
        small_mask = np.where(small_mask >= 128, 255, 0).astype(np.uint8)
        kp = pose.keypoints.copy()
        kp[:, 0] *= sx
        kp[:, 1] *= sy
        if outline is not None:
            outline = outline * np.array([sx, sy], np.float32)
        labels = estimate_labels(small, small_mask, kp, outline)
        return fit_labels_to_mask(labels, pose.mask)


class OnnxHumanParser:
    """A trained human parser exported to ONNX, run with onnxruntime on the CPU (or the
    given providers).

    The photo is scaled to fit `input_size` keeping its aspect ratio, centred, padded with
    zeros after normalisation, normalised per channel as ``(v / 255 - mean) / std`` in
    `channel_order`; the output's logits are cropped to the photo, resized to its size
    (bilinear) and arg-maxed. An output that already holds ids ((1, H, W) integers) is
    resized nearest. The defaults are Self-Correction Human Parsing's (BGR input, ImageNet
    statistics in BGR order); `input_size` defaults to the model's own input shape when it
    is fixed (SCHP's LIP model: 473x473, ATR: 512x512).

    Raises `CheckpointError` when the file is missing or is not a usable ONNX model.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        input_size: tuple[int, int] | None = None,
        mean: Sequence[float] = (0.406, 0.456, 0.485),
        std: Sequence[float] = (0.225, 0.224, 0.229),
        channel_order: str = "bgr",
        label_set: str = "lip",
        providers: Sequence[str] = ("CPUExecutionProvider",),
    ) -> None:
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise CheckpointError(f"human parser model not found: {self.path}")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
        if label_set not in ("lip", "atr"):
            raise ValueError(f"label_set must be 'lip' or 'atr', got {label_set!r}")
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f"mean and std need 3 values (std > 0), got {mean} and {std}")
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError("onnxruntime is not installed: pip install onnxruntime") from exc
        try:
            self.session = ort.InferenceSession(self.path, providers=list(providers))
        except Exception as exc:
            raise CheckpointError(
                f"{self.path} is not a loadable ONNX model: {' '.join(str(exc).split())[:300]}"
            ) from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            shapes = [tuple(i.shape) for i in inputs]
            raise CheckpointError(
                f"{self.path}: a human parser takes one (1, 3, H, W) input, this model takes "
                f"{shapes}"
            )
        self.input_name = inputs[0].name
        if input_size is None:
            ih, iw = inputs[0].shape[2:]
            if not (isinstance(ih, int) and isinstance(iw, int)):
                raise CheckpointError(
                    f"{self.path}: the model's input size is not fixed ({ih}, {iw}); "
                    "give input_size=(height, width)"
                )
            input_size = (ih, iw)
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.mean = np.asarray(mean, np.float32)
        self.std = np.asarray(std, np.float32)
        self.channel_order = channel_order
        self.label_set = label_set
        settings = (
            f"{self.input_size[0]}x{self.input_size[1]}-{channel_order}-"
            f"{','.join(f'{v:g}' for v in (*mean, *std))}"
        )
        self.id = f"onnx-{label_set}-{file_sha256(self.path)[:DIGEST_CHARS]}-{settings}"

    def parse(self, rgb: np.ndarray, pose: PoseResult | None, item: str) -> np.ndarray:
        """(H, W, 3) uint8 RGB -> (H, W) uint8 LIP ids; `pose` is not used."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        ih, iw = self.input_size
        s = min(ih / h, iw / w)
        th, tw = max(1, round(h * s)), max(1, round(w * s))
        oy, ox = (ih - th) // 2, (iw - tw) // 2
        interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        small = cv2.resize(rgb, (tw, th), interpolation=interp).astype(np.float32) / 255.0
        if self.channel_order == "bgr":
            small = small[..., ::-1]
        x = np.zeros((ih, iw, 3), np.float32)
        x[oy : oy + th, ox : ox + tw] = (small - self.mean) / self.std
        out = self.session.run(None, {self.input_name: x.transpose(2, 0, 1)[None]})[0]
        out = np.asarray(out)
        if out.ndim == 4 and out.shape[0] == 1:
            logits = out[0].transpose(1, 2, 0).astype(np.float32)  # (oh, ow, C)
            oh, ow = logits.shape[:2]
            fy, fx = oh / ih, ow / iw
            cy0, cy1 = int(np.floor(oy * fy)), max(int(np.ceil((oy + th) * fy)), 1)
            cx0, cx1 = int(np.floor(ox * fx)), max(int(np.ceil((ox + tw) * fx)), 1)
            logits = np.ascontiguousarray(logits[cy0:cy1, cx0:cx1])
            if logits.shape[2] > 512:
                raise CheckpointError(f"{self.path}: {logits.shape[2]} classes is too many")
            big = cv2.resize(logits, (w, h), interpolation=cv2.INTER_LINEAR)
            ids = big.reshape(h, w, -1).argmax(-1)
        elif out.ndim in (2, 3) and np.issubdtype(out.dtype, np.integer):
            ids = out.reshape(out.shape[-2:])
            oh, ow = ids.shape
            fy, fx = oh / ih, ow / iw
            ry = slice(int(oy * fy), max(int((oy + th) * fy), 1))
            rx = slice(int(ox * fx), max(int((ox + tw) * fx), 1))
            crop = ids[ry, rx]
            ids = cv2.resize(crop.astype(np.int32), (w, h), interpolation=cv2.INTER_NEAREST)
        else:
            raise CheckpointError(
                f"{self.path}: expected (1, C, H, W) logits or (1, H, W) ids, got "
                f"{out.shape} {out.dtype}"
            )
        try:
            return labels_to_lip(ids, self.label_set)
        except ValueError as exc:
            raise CheckpointError(f"{self.path}: {exc}") from exc


_default_parser: MediaPipeParser | None = None


def make_parser(spec: str | None = None, **options) -> HumanParser:
    """The parser a setting names: None, ``""`` or ``estimate`` for the embedded MediaPipe
    estimate (one shared instance), else the path of an ONNX export (`options` go to
    `OnnxHumanParser`)."""
    global _default_parser
    if spec in (None, "", "estimate", "mediapipe"):
        if _default_parser is None:
            _default_parser = MediaPipeParser()
        return _default_parser
    return OnnxHumanParser(spec, **options)

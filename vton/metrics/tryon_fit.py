"""Reference-free measures of a try-on on a real photo: coverage, preservation, neckline.

A garment that was never worn by the person in the photo has no ground-truth image, so the
catalog benchmark (`benchmarks/bench_catalog_tryon.py`) judges what can be judged without
one, from the person's own parse and keypoints:

- coverage: IoU of the composited-garment mask with the person's upper-body region
  (CP-VTON's warped-mask IoU, with the torso from below the shoulder line to the hips
  standing in for the garment's region; the old top alone is reported beside it): the
  arms are left out of both masks, since sleeves differ from garment to
  garment (a short-sleeved tee on a model in a long-sleeved top rightly leaves the arms
  bare, and must not be counted as missing cover);
- preservation: SSIM between try-on and photo where nothing may change (face, hair, legs,
  lower garment, background), away from both the old and the new garment;
- neckline: how far the new garment's neckline sits from the neck keypoint, in units of the
  neck-to-hip length, so that photos of any size and framing compare.

Conventions: images (H, W, 3) uint8 RGB; masks (H, W) bool or uint8 (non-zero = inside);
label maps (H, W) uint8 LIP ids (`vton.person.labels.LIP`); keypoints (18, 3) float COCO-18
(x, y, confidence) in the same pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from vton.geometry.capsules import capsule_mask, disc
from vton.person.labels import LIP

__all__ = [
    "UPPER_CLOTHING",
    "KEEP_LABELS",
    "upper_body_region",
    "torso_region",
    "arm_zone",
    "coverage_iou",
    "garment_hem_y",
    "keep_region",
    "masked_ssim",
    "neckline_error",
]

#: Labels of the clothing a top replaces (a dress or jumpsuit only above the hips).
UPPER_CLOTHING = (LIP["upper-clothes"], LIP["coat"])
_FULL_BODY = (LIP["dress"], LIP["jumpsuits"])
#: Labels that a try-on of a top must leave as they were.
KEEP_LABELS = tuple(
    LIP[n]
    for n in (
        "background", "hat", "hair", "sunglasses", "face", "pants", "skirt", "left-leg",
        "right-leg", "left-shoe", "right-shoe", "socks",
    )
)  # fmt: skip


def _check_2d(name: str, a: np.ndarray, shape: tuple[int, int]) -> None:
    if a.shape[:2] != shape:
        raise ValueError(f"{name} is {a.shape[:2]}, expected {shape}")


def _hip_y(labels: np.ndarray, keypoints: np.ndarray) -> float:
    hips = keypoints[[8, 11]]
    return float(hips[hips[:, 2] > 0, 1].mean()) if (hips[:, 2] > 0).any() else labels.shape[0]


def upper_body_region(labels: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """(H, W) bool: the old top (upper clothes, coat, and a dress or jumpsuit above the hip
    keypoints), the region a new top of the same cut would cover."""
    region = np.isin(labels, UPPER_CLOTHING)
    full = np.isin(labels, _FULL_BODY)
    if full.any():
        rows = np.arange(labels.shape[0])[:, None] <= _hip_y(labels, keypoints)
        region |= full & rows
    return region


#: The torso counts from this far below the shoulder line (shoulder widths): about where a
#: crew neck's front sits, so the neck itself never does.
TORSO_FROM = 0.15
#: What the torso is made of between there and the hips besides the old top: bare skin
#: (the parse's neck-and-skin label) and the waist of the lower garment.
_TORSO_LABELS = (LIP["neck"], LIP["pants"], LIP["skirt"])
#: The body's silhouette below the hips, which a tunic covers down to its hem.
_BELOW_HIPS = (*UPPER_CLOTHING, *_FULL_BODY, *_TORSO_LABELS, LIP["left-leg"], LIP["right-leg"])


def torso_region(labels: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """(H, W) bool: the person's upper body, the region any top covers whatever the old top
    covered: `upper_body_region` plus, from just below the shoulder line down to the hip
    keypoints, the bare torso skin (a crop top's midriff, the chest above a bandeau) and
    the waist of the lower garment (a top tucked into a skirt or worn over high-waisted
    trousers). Against the old top alone, a tee falling to the hips on a model in a crop top
    or a tucked-in blouse would count its correct cover as overhang. Hair, hands and arms
    in front of the torso are not part of it."""
    region = upper_body_region(labels, keypoints)
    kp = np.asarray(keypoints, np.float64)
    if kp[2, 2] <= 0 or kp[5, 2] <= 0:
        return region
    sw = float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    top = float(kp[[2, 5], 1].mean()) + TORSO_FROM * sw
    y = np.arange(labels.shape[0])[:, None]
    rows = (y >= top) & (y < _hip_y(labels, kp))
    return region | (np.isin(labels, _TORSO_LABELS) & rows)


#: Arm zone: capsules of this radius (shoulder widths) along the arms, from this far
#: down the upper arm (above it the shoulder is the torso's and the garment's).
ARM_RADIUS, ARM_START = 0.14, 0.35


def arm_zone(labels: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """(H, W) bool: where the arms are, bare or in sleeves: the parse's arm labels and a
    capsule along each arm whose shoulder and elbow keypoints were found (on to the wrist
    when it was)."""
    zone = np.isin(labels, (LIP["left-arm"], LIP["right-arm"]))
    kp = np.asarray(keypoints, np.float64)
    if kp[2, 2] <= 0 or kp[5, 2] <= 0:
        return zone
    r = ARM_RADIUS * float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    segs = []
    for s, e, w in ((2, 3, 4), (5, 6, 7)):
        if kp[e, 2] <= 0:
            continue
        start = kp[s, :2] + ARM_START * (kp[e, :2] - kp[s, :2])
        segs.append((start, kp[e, :2], r))
        if kp[w, 2] > 0:
            segs.append((kp[e, :2], kp[w, :2], r))
    return zone | capsule_mask(labels.shape, segs) if segs else zone


def garment_hem_y(mask: np.ndarray, keypoints: np.ndarray) -> float:
    """Row of the composited garment's hem under the middle of the torso: its lowest pixel
    within a fifth of a shoulder width of the midline between the shoulders' and the hips'
    centres; NaN when the garment has none there (or the shoulders are missing)."""
    kp = np.asarray(keypoints, np.float64)
    if kp[2, 2] <= 0 or kp[5, 2] <= 0:
        return float("nan")
    sw = float(np.hypot(*(kp[5, :2] - kp[2, :2])))
    centres = [kp[[2, 5], 0].mean()]
    if kp[8, 2] > 0 and kp[11, 2] > 0:
        centres.append(kp[[8, 11], 0].mean())
    cx = float(np.mean(centres))
    lo, hi = max(0, round(cx - 0.2 * sw)), min(mask.shape[1], round(cx + 0.2 * sw) + 1)
    rows = np.flatnonzero((np.asarray(mask)[:, lo:hi] > 0).any(1))
    return float(rows[-1]) if rows.size else float("nan")


def coverage_iou(
    mask: np.ndarray,
    labels: np.ndarray,
    keypoints: np.ndarray,
    *,
    arms: bool = False,
    old_top: bool = False,
    to_hem: bool = False,
    past_hips: bool = False,
) -> float:
    """IoU of the composited garment (`mask` > 0) with `torso_region` (`upper_body_region`,
    the old top alone, when `old_top`), both without the `arm_zone` unless `arms`; NaN when
    both are empty.

    `to_hem`: the region only down to the garment's own hem (`garment_hem_y`): a crop top
    is short by design, and its length is the garment's, not a misfit; what it covers, its
    width and neckline, and any overhang below the hips still count. With `past_hips` too,
    a garment hemmed below the hips has the body's silhouette down to its hem added (the
    old top, the lower garment, the legs, bare skin): a tunic is long by design as well,
    so the figure judges cover, width and neckline but not length at all.
    """
    _check_2d("mask", mask, labels.shape)
    a = np.asarray(mask) > 0
    b = (upper_body_region if old_top else torso_region)(labels, keypoints)
    if to_hem:
        hem = garment_hem_y(mask, keypoints)
        if np.isfinite(hem):
            y = np.arange(labels.shape[0])[:, None]
            b &= y <= hem
            hip = _hip_y(labels, keypoints)
            if past_hips and hem > hip:
                b |= np.isin(labels, _BELOW_HIPS) & (y >= hip) & (y <= hem)
    if not arms:
        zone = arm_zone(labels, keypoints)
        a, b = a & ~zone, b & ~zone
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else float("nan")


def keep_region(
    labels: np.ndarray, keypoints: np.ndarray, mask: np.ndarray, margin_frac: float = 0.04
) -> np.ndarray:
    """(H, W) bool: pixels of `KEEP_LABELS` farther than a margin (a fraction of the image
    height) from the new garment, the old top and the arms. The margin leaves out the
    feathered edges and contact shadows, which a good render is expected to change."""
    _check_2d("mask", mask, labels.shape)
    changed = (np.asarray(mask) > 0) | upper_body_region(labels, keypoints)
    changed |= np.isin(labels, (LIP["left-arm"], LIP["right-arm"], LIP["neck"]))
    r = max(1, round(margin_frac * labels.shape[0]))
    near = cv2.dilate(changed.astype(np.uint8), disc(r)) > 0
    return np.isin(labels, KEEP_LABELS) & ~near


def masked_ssim(a: np.ndarray, b: np.ndarray, region: np.ndarray, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian window `sigma`, on luma) of two (H, W, 3)
    uint8 images over `region`; NaN for an empty region."""
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"images must be equal (H, W, 3), got {a.shape} and {b.shape}")
    _check_2d("region", region, a.shape[:2])
    if not region.any():
        return float("nan")
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(z: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(z, (0, 0), sigma)

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s[region].mean())


def neckline_error(mask: np.ndarray, keypoints: np.ndarray) -> float:
    """Signed height of the garment's neckline above (+) or below (-) the neck keypoint, over
    the neck-to-hip length.

    The neckline is the top of the composited garment in a narrow band of columns around the
    neck keypoint (the centre front). NaN when the neck or both hips are missing or the band
    holds no garment.
    """
    kp = np.asarray(keypoints, np.float64)
    neck, hips = kp[1], kp[[8, 11]]
    if neck[2] <= 0 or not (hips[:, 2] > 0).any():
        return float("nan")
    hip_y = float(hips[hips[:, 2] > 0, 1].mean())
    length = hip_y - neck[1]
    if length <= 0:
        return float("nan")
    m = np.asarray(mask) > 0
    sh = kp[[2, 5]]
    sw = float(np.hypot(*(sh[0, :2] - sh[1, :2]))) if (sh[:, 2] > 0).all() else 0.2 * m.shape[1]
    half = max(1, round(0.05 * sw))
    x0, x1 = max(0, round(neck[0]) - half), min(m.shape[1], round(neck[0]) + half + 1)
    band = m[:, x0:x1]
    filled = band.any(axis=0)
    if not filled.any():
        return float("nan")
    tops = band.argmax(axis=0)[filled]  # first garment row of each column
    return float((neck[1] - np.median(tops)) / length)

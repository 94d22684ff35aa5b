"""Known-geometry pairs and the measures the physical renderer is held to.

Shared by `tests/render` and `benchmarks/bench_physical.py` (which imports this module), so
that the tests and the benchmark measure the same thing.

- Persons are `vton.person.synthetic` drawings: their torso, arms, head and old shirt are
  known exactly. `torso_region` and `arm_region` redraw the torso polygon and the arm
  capsules with the proportions that module draws them with.
- Garments are `vton.synthetic_garments` product photos, put on the cloth stage's 1024x768
  canvas (`vton.cloth.normalise`) with their landmarks, as `vton.cloth.prep` stores them.
- Measures: `coverage_iou` (rendered garment against the torso, arms left out),
  `print_ssim` (the try-on mapped back onto the garment canvas through the inverse of the
  drape, against the garment, inside its torso part), `colour_delta_e` (mean CIEDE2000 of
  the try-on against the unshaded warped garment on the flat-lit inside of the torso).
  SSIM and CIEDE2000 are written out here (Wang et al. 2004; Sharma et al. 2005) because
  scikit-image is not a dependency.
"""

from __future__ import annotations

import cv2
import numpy as np

from vton.cloth.landmarks import garment_landmarks
from vton.cloth.normalise import HIRES_SIZE, normalise_garment
from vton.cloth.prep import ClothAsset
from vton.person.labels import LIP
from vton.person.prep import PersonAsset
from vton.person.synthetic import SyntheticPerson, synthetic_person
from vton.render.base import RenderOutput
from vton.render.garment_geometry import torso_and_sleeve_masks
from vton.render.physical import Drape
from vton.synthetic_garments import GarmentSpec, render_garment

__all__ = [
    "PersonSpec",
    "cloth_asset",
    "flat_cloth_asset",
    "person_asset",
    "torso_region",
    "arm_region",
    "upper_arm_rows",
    "ssim_map",
    "rgb_to_lab",
    "ciede2000",
    "coverage_iou",
    "print_ssim",
    "colour_delta_e",
]

NAVY, RED, WHITE = (24, 37, 72), (196, 32, 44), (246, 244, 238)


def cloth_asset(spec: GarmentSpec) -> ClothAsset:
    """A synthetic product photo on the cloth stage's 1024x768 canvas, with landmarks."""
    g = render_garment(spec)
    image, mask = normalise_garment(g.image, g.mask, HIRES_SIZE)
    return ClothAsset(image, mask, garment_landmarks(mask), {"product_id": spec.product_id})


def flat_cloth_asset(
    style: str = "tee", colour: tuple[int, int, int] = (60, 140, 90), crop: float = 1.0
) -> ClothAsset:
    """A garment of one flat colour (no print, no folds): colour fidelity is exact on it.
    `crop` < 1 cuts its silhouette to that fraction of its height (a cropped top)."""
    g = render_garment(GarmentSpec(f"flat-{style}", style, "plain", colour, colour, seed=3))
    mask = g.mask.copy()
    if crop < 1.0:
        ys = np.flatnonzero(mask.any(1))
        mask[ys[0] + round(crop * (ys[-1] - ys[0])) :] = 0
    image = np.full_like(g.image, 255)
    image[mask > 0] = colour
    image, mask = normalise_garment(image, mask, HIRES_SIZE)
    return ClothAsset(image, mask, garment_landmarks(mask), {"product_id": f"flat-{style}"})


class PersonSpec:
    """Arguments of `synthetic_person`, kept to redraw its regions."""

    def __init__(self, height: int = 512, width: int = 384, **kw) -> None:
        self.height, self.width, self.kw = height, width, kw

    @property
    def u(self) -> float:
        return self.kw.get("scale", 0.9) * self.height

    def point(self, dx: float, dy: float) -> np.ndarray:
        cx, top = self.kw.get("centre", (0.5, 0.05))
        return np.array([cx * self.width + dx * self.u, top * self.height + dy * self.u])

    def draw(self) -> SyntheticPerson:
        return synthetic_person(self.height, self.width, **self.kw)


def person_asset(spec: PersonSpec) -> tuple[PersonAsset, SyntheticPerson]:
    p = spec.draw()
    return PersonAsset(p.image, p.mask, p.keypoints, {}, p.labels), p


def torso_region(spec: PersonSpec) -> np.ndarray:
    """(H, W) bool: the drawn shirt's torso polygon (below the neck, without sleeves)."""
    poly = np.array([spec.point(-0.13, 0.18), spec.point(0.13, 0.18),
                     spec.point(0.1, 0.53), spec.point(-0.1, 0.53)])  # fmt: skip
    out = np.zeros((spec.height, spec.width), np.uint8)
    cv2.fillConvexPoly(out, np.round(poly).astype(np.int32), 1)
    return out.astype(bool)


def arm_region(spec: PersonSpec, person: SyntheticPerson) -> np.ndarray:
    """(H, W) bool: both arms (upper arm, forearm and hand capsules) as drawn."""
    kp, u = person.keypoints, spec.u
    out = np.zeros((spec.height, spec.width), np.uint8)
    for s, e, w in ((2, 3, 4), (5, 6, 7)):
        sh, el, wr = kp[s, :2], kp[e, :2], kp[w, :2]
        hand = wr + (wr - el) / np.hypot(*(wr - el)) * 0.05 * u
        for p, q, r in ((sh, el, 0.032 * u), (el, wr, 0.025 * u), (wr, hand, 0.027 * u)):
            a, b = tuple(np.round(p).astype(int)), tuple(np.round(q).astype(int))
            cv2.line(out, a, b, 1, thickness=max(1, round(2 * r)))
            cv2.circle(out, a, max(1, round(r)), 1, -1)
            cv2.circle(out, b, max(1, round(r)), 1, -1)
    return out.astype(bool)


def upper_arm_rows(shape: tuple[int, int], keypoints: np.ndarray, start: float, end: float):
    """(H, W) bool: the rows from `start` to `end` of the way down from each shoulder
    keypoint to its elbow (a band across the upper arms, to be cut by `arm_region`)."""
    out = np.zeros(shape, bool)
    for shoulder, elbow in ((2, 3), (5, 6)):
        y0, y1 = keypoints[shoulder, 1], keypoints[elbow, 1]
        out[int(y0 + start * (y1 - y0)) : int(y0 + end * (y1 - y0))] = True
    return out


# -- measures ---------------------------------------------------------------------------


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM of two (H, W) float images in 0..255 (Gaussian window, sigma 1.5,
    K1 = 0.01, K2 = 0.03, as Wang et al. 2004); (H, W) float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    return ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 or float 0..255 sRGB -> (..., 3) float64 CIELAB (D65)."""
    x = np.asarray(rgb, np.float32).reshape(-1, 1, 3) / np.float32(255)
    lab = cv2.cvtColor(x, cv2.COLOR_RGB2Lab)
    return lab.reshape(np.shape(rgb)).astype(np.float64)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of (..., 3) CIELAB arrays (Sharma, Wu, Dalal 2005)."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, np.float64), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = L2 - L1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dhh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)
    l_bar, cp_bar = (L1 + L2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    h_bar = np.where(
        np.abs(h1p - h2p) <= 180, hsum / 2, np.where(hsum < 360, (hsum + 360) / 2, (hsum - 360) / 2)
    )
    h_bar = np.where(c1p * c2p == 0, hsum, h_bar)
    hr = np.radians(h_bar)
    t = (
        1
        - 0.17 * np.cos(hr - np.radians(30))
        + 0.24 * np.cos(2 * hr)
        + 0.32 * np.cos(3 * hr + np.radians(6))
        - 0.20 * np.cos(4 * hr - np.radians(63))
    )
    sl = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    sc, sh = 1 + 0.045 * cp_bar, 1 + 0.015 * cp_bar * t
    rc = 2 * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
    rt = -np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))) * rc
    return np.sqrt((dl / sl) ** 2 + (dc / sc) ** 2 + (dhh / sh) ** 2 + rt * (dc / sc) * (dhh / sh))


def coverage_iou(
    out: RenderOutput, spec: PersonSpec, person: SyntheticPerson
) -> tuple[float, np.ndarray, np.ndarray]:
    """IoU of the rendered garment (composition mask >= 128) against the person's torso,
    both without the arms (sleeves lie on them, arms hide the torso); with the masks."""
    arms = arm_region(spec, person)
    rendered = (out.composition_mask >= 128) & ~arms
    target = torso_region(spec) & ~arms
    inter, union = np.count_nonzero(rendered & target), np.count_nonzero(rendered | target)
    return inter / max(union, 1), rendered, target


def _invert(tps, targets: np.ndarray, iters: int = 12) -> np.ndarray:
    """Photo points p with tps(p) = targets (canvas points), (M, 2): Newton steps with the
    spline's affine part as the Jacobian (the drape is near-affine, so this converges)."""
    a = tps.affine[1:] / tps.spread  # d canvas / d photo of the affine part, (2, 2)
    inv = np.linalg.inv(a)
    p = (targets - tps.affine[0]) @ inv + tps.centre
    for _ in range(iters):
        p = p + (targets - tps(p)) @ inv
    return p


def print_ssim(
    out: RenderOutput, drape: Drape, visible: np.ndarray, *, rigid: bool = False
) -> float:
    """Mean SSIM (luma) of the try-on mapped back onto the garment canvas against the
    garment, inside its torso part where it is visible in the photo.

    The comparison is at the scale the garment is drawn at (canvas reduced by the drape's
    chest scale), so the resolution a small photo cannot hold is not counted as loss.
    With `rigid`, the chest alone is mapped back by the one affine map that fits the drape
    there best: then the score also drops where the print is bent or stretched unevenly.
    visible: (H, W) bool over the photo, where the garment is not hidden (arms, head); the
    composition mask must also show the garment there fully.
    """
    plan, g = drape.plan, drape.plan.geometry
    s = min(1.0, plan.scale)
    h, w = max(8, round(g.height * s)), max(8, round(g.width * s))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    canvas = np.stack([(xs.ravel() + 0.5) / s - 0.5, (ys.ravel() + 0.5) / s - 0.5], 1)
    # The inverse is smooth: solve it every 4 px and interpolate (as `warp_image` does).
    # Sample j sits at pixel (j - 0.5) * 4 - 0.5: cv2.resize's pixel-centre convention.
    gh, gw = -(-h // 4) + 2, -(-w // 4) + 2
    cy, cx = np.meshgrid((np.arange(gh) - 0.5) * 4 - 0.5, (np.arange(gw) - 0.5) * 4 - 0.5,
                         indexing="ij")  # fmt: skip
    coarse_pts = np.stack([(cx.ravel() + 0.5) / s - 0.5, (cy.ravel() + 0.5) / s - 0.5], 1)
    coarse = _invert(plan.torso, coarse_pts).reshape(gh, gw, 2).astype(np.float32)
    photo = cv2.resize(coarse, (gw * 4, gh * 4), interpolation=cv2.INTER_LINEAR)
    photo = photo[4 : 4 + h, 4 : 4 + w].reshape(-1, 2).astype(np.float64)
    if rigid:
        # One affine map for the chest (armpits to two thirds down, the middle 60 % of
        # the width): what is left is the bending a print would show.
        ap_y = (g.armpit_left[1] + g.armpit_right[1]) / 2
        half = g.chest_half_width
        chest = (
            (canvas[:, 1] >= ap_y)
            & (canvas[:, 1] <= ap_y + 0.66 * (g.hem_y - ap_y))
            & (np.abs(canvas[:, 0] - g.centre_x) <= 0.6 * half)
        )
        ones = np.hstack([canvas, np.ones((len(canvas), 1))])
        coef = np.linalg.lstsq(ones[chest], photo[chest], rcond=None)[0]
        photo = ones @ coef
    photo = photo.astype(np.float32)
    mx, my = photo[:, 0].reshape(h, w), photo[:, 1].reshape(h, w)
    back = cv2.remap(out.tryon, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    hard = np.where(drape.garment_mask >= 128, 255, 0).astype(np.uint8)
    torso_m = torso_and_sleeve_masks(hard, g)[0]
    ref = cv2.resize(drape.garment, (w, h), interpolation=cv2.INTER_AREA)
    inside = cv2.resize(torso_m, (w, h), interpolation=cv2.INTER_AREA) >= 255
    inside = cv2.erode(inside.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    shown = (out.composition_mask >= 250) & visible
    inside &= cv2.remap(shown.astype(np.uint8), mx, my, cv2.INTER_NEAREST, borderValue=0) > 0
    if rigid:
        inside &= chest.reshape(h, w)
    if not inside.any():
        raise ValueError("no visible torso part to compare")
    luma = np.array([0.299, 0.587, 0.114])
    return float(ssim_map(back @ luma, ref @ luma)[inside].mean())


def colour_delta_e(out: RenderOutput, labels: np.ndarray, sw: float) -> float:
    """Mean CIEDE2000 of the try-on against the warped (unshaded) garment, on the flat-lit
    inside of the garment: fully covered, a tenth of a shoulder width from its edges (the
    contact shadows are there by design) and from the arms and the head."""
    cover = (out.composition_mask >= 255).astype(np.uint8)
    r = max(1, round(0.1 * sw))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    inside = cv2.erode(cover, disc).astype(bool)
    near = np.isin(labels, (LIP["left-arm"], LIP["right-arm"], LIP["face"], LIP["hair"]))
    inside &= ~cv2.dilate(near.astype(np.uint8), disc).astype(bool)
    if not inside.any():
        raise ValueError("no flat-lit garment pixels to compare")
    de = ciede2000(rgb_to_lab(out.tryon[inside]), rgb_to_lab(out.warped_cloth[inside]))
    return float(de.mean())


def mirrored_mask(
    right, extra=(), *, shape: tuple[int, int] = (512, 512), top: int = 40, bottom: int = 472
) -> np.ndarray:
    """(H, W) uint8 {0, 255} mask of the polygon whose right half is `right` ((x, y) in
    garment units: x from the centre line, y down from `top`, one unit = bottom - top rows;
    from the top of the centre line clockwise to its bottom), mirrored about the centre;
    `extra` polygons (same units, drawn as given and mirrored) are added (straps, hooks)."""
    h, w = shape
    scale = bottom - top

    def px(pts):
        return np.array([(w / 2 + x * scale, top + y * scale) for x, y in pts], np.float64)

    r = px(right)
    left = r[::-1].copy()
    left[:, 0] = w - left[:, 0]
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [np.round(np.concatenate([r, left]) * 16).astype(np.int32)], 255, 8, 4)
    for e in extra:
        p = px(e)
        q = p.copy()
        q[:, 0] = w - q[:, 0]
        for poly in (p, q):
            cv2.fillPoly(m, [np.round(poly * 16).astype(np.int32)], 255, 8, 4)
    return m

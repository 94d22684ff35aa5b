"""The front neckline read from the product photo, where the silhouette cannot show it.

A garment photographed flat or on a ghost mannequin shows the inside of its back through
the front neckline: a shaded crescent, often with the brand label. On a person that fabric
is behind the neck; drawn, it is a grey collar up to the chin. `inner_back` (silhouette
only) assumes a crew neck's depth, which leaves the lower part of a deeper crescent, and
cannot see a tank's back lining through a scoop at all (its top edge at the centre is the
back, far below the neck sides).

The photo shows where the front really is: the inside is in shadow, so the front neckline
is a continuous edge, darker above and lighter below, running in a U from one neck side to
the other. `inside_of_back` looks for that U below the crew estimate (superellipse curves
of several spans, squarenesses and depths, scored by the lightness step across them), and
takes it only when the evidence is unambiguous:

- the step holds along most of the curve (`MIN_EDGE_SHARE`): a print's edge, a stripe or a
  contrasting rib crosses a U only in places;
- the fabric above it, beyond the crew estimate, is darker than the fabric just below by
  `MIN_INSIDE_DARKER` (the inside is in shadow) and of an even tone (`MAX_INSIDE_SPREAD`:
  a print or lettering is not);

then the inside is grown into the even, darker pixels touching it up to the neck sides'
height (a crescent's tips run wider than the curve). Without that evidence the silhouette's
estimate stands, so a photo changes the result only where it shows an inside.
"""

from __future__ import annotations

import cv2
import numpy as np

from vton.render.garment_geometry import (
    BACK_SHOWS_DIP,
    FRONT_DROP,
    MAX_NECK_TO_CHEST,
    GarmentGeometry,
    inner_back,
)

__all__ = ["inside_of_back"]

#: Superellipse exponents of the front neckline: a round U (2) to a square one (6).
FRONT_SHAPES = (2.0, 2.5, 3.0, 4.0, 6.0)
#: Half spans of the front neckline, in neck half widths (the neck sides are the collar's
#: highest points; a crescent's tips may lie a little outside them).
FRONT_SPANS = (1.0, 1.15, 1.3)
#: Deepest front neckline looked for, in neck half widths below the neck sides.
MAX_FRONT_DEPTH = 1.6
#: Depth step of the search, in neck half widths.
DEPTH_STEP = 0.03
#: Least share of the curve's points with a lightness step of at least `MIN_STEP`.
MIN_EDGE_SHARE = 0.75
#: Least lightness step (CIE L*, 0-100) at a point for it to count as on the edge.
MIN_STEP = 3.0
#: The inside (beyond the crew estimate) must be at least this much darker (L*) than the
#: fabric just below the front neckline ...
MIN_INSIDE_DARKER = 10.0
#: ... and its tone this even: L* spread between its 10th and 90th percentiles.
MAX_INSIDE_SPREAD = 20.0
#: Least pixels (at the reduced scale) beyond the crew estimate for a reading.
MIN_INSIDE_PIXELS = 40
#: The search runs on the neck region reduced to this neck half width (px).
WORK_HALF = 60.0
#: Points sampled along each curve.
CURVE_POINTS = 64


def inside_of_back(rgb: np.ndarray, mask: np.ndarray, geom: GarmentGeometry) -> np.ndarray:
    """(H, W) bool: the inside of the garment's back seen through its front neckline.

    `rgb`: (H, W, 3) uint8 product photo on `geom`'s canvas; `mask`: (H, W) uint8 0..255.
    The silhouette's estimate (`inner_back`), extended to the front neckline the photo
    shows when it shows one unambiguously (see the module docstring).
    """
    hard = np.where(mask >= 128, 255, 0).astype(np.uint8)
    base = inner_back(hard, geom)
    (xl, yl), (xr, yr) = geom.neck_left, geom.neck_right
    half = (xr - xl) / 2
    if half < 4 or 2 * half > MAX_NECK_TO_CHEST * 2 * geom.chest_half_width:
        return base
    ny = (yl + yr) / 2
    dip = (geom.neck_centre[1] - ny) / half
    # Below the crew estimate where it applies; below the top edge's dip where it does not.
    shallow = dip <= BACK_SHOWS_DIP * 2
    least = 2 * FRONT_DROP if shallow else dip + 0.2
    if least >= MAX_FRONT_DEPTH:
        return base
    region = _Region(rgb, hard, geom, half, ny)
    curve = region.best_curve(least)
    if curve is None:
        return base
    above = region.above(curve) & ~region.crop(base)
    if above.sum() < MIN_INSIDE_PIXELS:
        return base
    band = region.band_below(above | region.crop(base))
    if not band.any():
        return base
    lum = region.lum
    inside_l, below_l = lum[above], float(lum[band].mean())
    spread = float(np.percentile(inside_l, 90) - np.percentile(inside_l, 10))
    if below_l - float(inside_l.mean()) < MIN_INSIDE_DARKER or spread > MAX_INSIDE_SPREAD:
        return base
    inside = region.grow(above | region.crop(base), (float(np.median(inside_l)) + below_l) / 2)
    return base | region.full(inside) & (hard > 0)


class _Region:
    """The neck region of the photo, reduced so that the neck half width is `WORK_HALF`,
    with its lightness and mask; converts between its pixels and the canvas."""

    def __init__(self, rgb, hard, geom: GarmentGeometry, half: float, ny: float) -> None:
        h, w = hard.shape
        (xl, _), (xr, _) = geom.neck_left, geom.neck_right
        self.shape_full = (h, w)
        self.x0 = int(max(0, np.floor(xl - 0.6 * half)))
        self.x1 = int(min(w, np.ceil(xr + 0.6 * half) + 1))
        self.y0 = int(max(0, np.floor(min(geom.neck_left[1], geom.neck_right[1]) - 0.1 * half)))
        self.y1 = int(min(h, np.ceil(ny + (MAX_FRONT_DEPTH + 0.3) * half) + 1))
        self.f = min(1.0, WORK_HALF / half)
        cw, ch = self.x1 - self.x0, self.y1 - self.y0
        self.size = (max(2, round(cw * self.f)), max(2, round(ch * self.f)))
        crop = np.ascontiguousarray(rgb[self.y0 : self.y1, self.x0 : self.x1])
        small = cv2.resize(crop, self.size, interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32) * (100 / 255)
        self.lum = cv2.GaussianBlur(lab, (0, 0), 1.2)
        m = hard[self.y0 : self.y1, self.x0 : self.x1]
        m = cv2.resize(m, self.size, interpolation=cv2.INTER_AREA)
        self.inside_mask = cv2.erode((m >= 128).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        self.mask = m >= 128
        self.top = np.where(self.mask.any(0), self.mask.argmax(0), self.size[1])
        self.half = half * self.f
        self.cx = ((xl + xr) / 2 - self.x0) * self.f
        self.ny = (ny - self.y0) * self.f

    def best_curve(self, least: float) -> tuple[float, float, float] | None:
        """(span, shape, depth) of the curve with the strongest dark-above step, among
        those whose step holds along `MIN_EDGE_SHARE` of them; None if none does."""
        u = np.linspace(-0.92, 0.92, CURVE_POINTS)
        lum = self.lum
        valid = self.inside_mask.astype(np.float32)
        best, best_score = None, -np.inf
        for a in FRONT_SHAPES:
            shape = (1 - np.abs(u) ** a) ** (1 / a)
            slope = np.gradient(shape, u)
            for k in FRONT_SPANS:
                px = self.cx + u * k * self.half
                cols = np.clip(np.round(px).astype(int), 0, self.size[0] - 1)
                for depth in np.arange(least, MAX_FRONT_DEPTH + 1e-9, DEPTH_STEP):
                    py = self.ny + depth * self.half * shape
                    # Normals (pointing down, into the front) of the curve.
                    dy = depth * slope / k
                    norm = np.sqrt(1 + dy**2)
                    nx, nyv = -dy / norm, 1 / norm
                    bx, by = px + 2 * nx, py + 2 * nyv  # just below the curve
                    ax, ay = px - 2 * nx, py - 2 * nyv  # just above it
                    below, above = _sample(lum, bx, by), _sample(lum, ax, ay)
                    ok = (
                        (_sample(valid, bx, by) > 0.99)
                        & (_sample(valid, ax, ay) > 0.99)
                        & (ay > self.top[cols] + 1)
                    )
                    if ok.mean() < 0.6:
                        continue
                    step = (below - above)[ok]
                    if (step > MIN_STEP).mean() < MIN_EDGE_SHARE:
                        continue
                    score = float(np.minimum(step, 25.0).mean())
                    if score > best_score:
                        best, best_score = (k, a, float(depth)), score
        return best

    def above(self, curve: tuple[float, float, float]) -> np.ndarray:
        """Mask pixels (reduced) above the curve, within its span."""
        k, a, depth = curve
        xs = np.arange(self.size[0], dtype=np.float64)
        u = (xs - self.cx) / (k * self.half)
        front = np.full(self.size[0], -1.0)
        span = np.abs(u) < 1
        front[span] = self.ny + depth * self.half * (1 - np.abs(u[span]) ** a) ** (1 / a)
        ys = np.arange(self.size[1], dtype=np.float64)[:, None]
        return (ys < front[None, :]) & self.mask

    def band_below(self, inside: np.ndarray) -> np.ndarray:
        """The fabric in a band a fifth of the neck half width around `inside`."""
        r = max(3, round(0.2 * self.half))
        ring = cv2.dilate(inside.view(np.uint8), np.ones((r, r), np.uint8)) > 0
        return ring & ~inside & self.mask

    def grow(self, inside: np.ndarray, darker_than: float) -> np.ndarray:
        """`inside` with the pixels darker than `darker_than` connected to it, no lower
        than a little below the neck sides."""
        zone = self.mask & (self.lum < darker_than)
        zone[int(np.ceil(self.ny + 0.3 * self.half)) :] = False
        zone |= inside
        n, comp = cv2.connectedComponents(zone.view(np.uint8), connectivity=4)
        keep = np.zeros(n, bool)
        keep[np.unique(comp[inside])] = True
        keep[0] = False
        return keep[comp]

    def crop(self, full: np.ndarray) -> np.ndarray:
        """A canvas bool mask reduced onto the region."""
        c = full[self.y0 : self.y1, self.x0 : self.x1].view(np.uint8) * np.uint8(255)
        return cv2.resize(c, self.size, interpolation=cv2.INTER_AREA) >= 128

    def full(self, small: np.ndarray) -> np.ndarray:
        """A region bool mask on the canvas."""
        out = np.zeros(self.shape_full, bool)
        size = (self.x1 - self.x0, self.y1 - self.y0)
        big = cv2.resize(small.view(np.uint8) * np.uint8(255), size, interpolation=cv2.INTER_LINEAR)
        out[self.y0 : self.y1, self.x0 : self.x1] = big >= 128
        return out


def _sample(img: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of a float32 image at float pixel positions (edges replicated)."""
    return cv2.remap(
        img, x.astype(np.float32)[None], y.astype(np.float32)[None], cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )[0]  # fmt: skip

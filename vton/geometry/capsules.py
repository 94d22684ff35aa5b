"""Capsules: line segments with a radius, rasterised into a mask.

Limbs are drawn this way wherever a rule needs "near this bone" without a segmentation:
the rule-based parser (`vton.person.parsing`) labels arms and legs inside them, and the
physical renderer (`vton.render.physical`) keeps arms out of the torso and puts them in
front of the garment. One rasteriser, so the two agree on what a capsule covers.

Convention: points are (x, y) in pixels, float; masks are (H, W) bool.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

__all__ = ["capsule_mask", "disc", "nearest_on_segments"]

Segment = tuple[np.ndarray, np.ndarray, float]


def capsule_mask(
    shape: tuple[int, int],
    segments: Iterable[Segment],
    origin: np.ndarray | None = None,
) -> np.ndarray:
    """(H, W) bool: the union of capsules (p, q, radius) over an `shape` (H, W) mask.

    p, q: (2,) end points (x, y) in pixels; `origin` (2,), when given, is the (x, y) of the
    mask's top-left pixel in the points' coordinates (a crop of a photo), and is subtracted
    first. Ends are rounded to whole pixels; the segment is drawn `round(2 * radius)` px
    wide (8-connected) with a disc of radius `round(radius)` on each end, both at least
    1 px, so a radius below half a pixel still marks the segment.
    """
    if len(shape) != 2:
        raise ValueError(f"shape must be (H, W), got {shape}")
    out = np.zeros(shape, np.uint8)
    for p, q, r in segments:
        if origin is not None:
            p, q = p - origin, q - origin
        a = (round(float(p[0])), round(float(p[1])))
        b = (round(float(q[0])), round(float(q[1])))
        rad = max(1, round(float(r)))
        cv2.line(out, a, b, 1, thickness=max(1, round(2 * float(r))), lineType=cv2.LINE_8)
        cv2.circle(out, a, rad, 1, -1)
        cv2.circle(out, b, rad, 1, -1)
    return out.astype(bool)


def disc(r: int) -> np.ndarray:
    """(2r+1, 2r+1) uint8 elliptical structuring element of radius `r` px: the one
    kernel that grows, shrinks and closes masks by a round distance (a capsule's end)."""
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def nearest_on_segments(
    pts: np.ndarray, segments: Iterable[tuple]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For (N, 2) float32 points, each one's nearest of the segments (p, q, ...) (extra
    items, a radius, are ignored): its index, the position of the foot along it (0 at p,
    1 at q) and the offset (N, 2) from the foot to the point. The first segment wins a
    tie; a segment of zero length is never the nearest while another is. What a rule
    "along this bone, across it" reads a limb's pixels by."""
    n = len(pts)
    best = np.full(n, np.inf, np.float32)
    index = np.zeros(n, np.intp)
    along = np.zeros(n, np.float32)
    offset = np.zeros((n, 2), np.float32)
    for k, seg in enumerate(segments):
        p, q = np.asarray(seg[0], np.float32), np.asarray(seg[1], np.float32)
        d = q - p
        dd = float(d @ d)
        if dd < 1e-12:
            continue
        u = np.clip(((pts - p) @ d) / dd, 0.0, 1.0).astype(np.float32)
        off = pts - (p + u[:, None] * d)
        dist = np.hypot(off[:, 0], off[:, 1])
        closer = dist < best
        best[closer], index[closer] = dist[closer], k
        along[closer], offset[closer] = u[closer], off[closer]
    return index, along, offset

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

__all__ = ["capsule_mask", "disc"]

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

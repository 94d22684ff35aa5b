"""Garment landmarks from a front-view mask: where the neckline, shoulders and hem are.

Weight-free renderers pin these to body keypoints. They are read off the silhouette of a
garment laid out upright and centred (the normalised canvas): the body is the run of mask
pixels through the centre column at 60 % of the height (below the sleeves of a tee, and
clear of long sleeves hanging beside the body); shoulders are the outermost points of the
top edge that lie within the body's columns and the top quarter; the hem is the bottom
band. "left" and "right" are the viewer's, so the garment's left side in the image goes on
the wearer's right.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from vton.errors import InvalidInputError

__all__ = ["GarmentLandmarks", "garment_landmarks"]


@dataclass(frozen=True)
class GarmentLandmarks:
    """Points (x, y) in pixels of the canvas the mask was measured on."""

    neck: tuple[float, float]
    shoulder_left: tuple[float, float]
    shoulder_right: tuple[float, float]
    hem_left: tuple[float, float]
    hem_right: tuple[float, float]
    width: int
    height: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GarmentLandmarks:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    def scaled(self, sx: float, sy: float) -> GarmentLandmarks:
        def s(p: tuple[float, float]) -> tuple[float, float]:
            return (p[0] * sx, p[1] * sy)

        return GarmentLandmarks(
            s(self.neck),
            s(self.shoulder_left),
            s(self.shoulder_right),
            s(self.hem_left),
            s(self.hem_right),
            round(self.width * sx),
            round(self.height * sy),
        )


def _run_through(row: np.ndarray, x: int) -> tuple[int, int] | None:
    """The [start, end] of the run of True in `row` containing column x (or nearest)."""
    idx = np.flatnonzero(row)
    if idx.size == 0:
        return None
    if not row[x]:
        x = int(idx[np.argmin(np.abs(idx - x))])
    left = x
    while left > 0 and row[left - 1]:
        left -= 1
    right = x
    while right < row.size - 1 and row[right + 1]:
        right += 1
    return left, right


def garment_landmarks(mask: np.ndarray, item: str = "garment") -> GarmentLandmarks:
    """Landmarks of the garment in an (H, W) uint8 {0, 255} front-view mask."""
    if mask.ndim != 2:
        raise ValueError(f"expected an (H, W) mask, got {mask.shape}")
    fg = mask > 0
    ys, xs = np.nonzero(fg)
    if ys.size < 16:
        raise InvalidInputError(item, "garment mask is empty")
    y0, y1 = int(ys.min()), int(ys.max())
    gh = y1 - y0 + 1
    cx = (int(xs.min()) + int(xs.max())) // 2
    body = _run_through(fg[y0 + int(0.6 * gh)], cx)
    hem_row = y1 - max(1, int(0.02 * gh))
    hem = _run_through(fg[hem_row], cx)
    if body is None or hem is None:
        raise InvalidInputError(item, "garment silhouette has no body below the sleeves")
    top = np.where(fg.any(axis=0), fg.argmax(axis=0), mask.shape[0])
    limit = y0 + 0.25 * gh

    def shoulder(cols: range) -> tuple[float, float]:
        for x in cols:
            if top[x] <= limit:
                return (float(x), float(top[x]))
        return (float(cx), float(y0))

    bl, br = body
    sl = shoulder(range(bl, cx))
    sr = shoulder(range(br, cx, -1))
    neck = (float(cx), float(top[cx]) if top[cx] < mask.shape[0] else float(y0))
    return GarmentLandmarks(
        neck=neck,
        shoulder_left=sl,
        shoulder_right=sr,
        hem_left=(float(hem[0]), float(hem_row)),
        hem_right=(float(hem[1]), float(hem_row)),
        width=mask.shape[1],
        height=mask.shape[0],
    )

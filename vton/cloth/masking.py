"""Cloth maskers: which pixels of a product photo are garment.

One interface (`Masker`), several back-ends chosen per run by name. Every back-end has an
`id` that goes into the asset digest, the manifest and the index, so a change of masker
re-prepares the garments and every published image says how its garment was cut out.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from vton.errors import InvalidInputError

__all__ = ["Masker", "WhiteBackgroundMasker", "make_masker", "MASKERS"]


class Masker(Protocol):
    """Garment masking back-end.

    `mask` takes an (H, W, 3) uint8 RGB product photo and its (H, W) uint8 alpha plane when
    the file had one, and returns an (H, W) uint8 {0, 255} mask of the garment. It raises
    `InvalidInputError` when it finds no garment.
    """

    id: str

    def mask(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> np.ndarray: ...


def _largest_component(mask: np.ndarray) -> np.ndarray:
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return np.where(labels == biggest, 255, 0).astype(np.uint8)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill holes not connected to the border (prints the colour of the background)."""
    h, w = mask.shape
    flood = np.pad(mask, 1, constant_values=0)
    ff_mask = np.zeros((h + 4, w + 4), np.uint8)
    cv2.floodFill(flood, ff_mask, (0, 0), 255)
    holes = cv2.bitwise_not(flood[1:-1, 1:-1])
    return cv2.bitwise_or(mask, holes)


class WhiteBackgroundMasker:
    """Classical masker for studio shots on a plain, light background. Needs no weights.

    The background colour is estimated from the image border, so off-white and grey
    backdrops work; pixels far from it in colour are garment. Holes are filled (a white
    print on a shirt is still shirt) and the largest component is kept (specks of dust and
    price tags are not). A PNG's own alpha wins when it has real transparency.
    Computed at <= `work_side` px for speed; the mask is scaled back to full size.
    """

    id = "classical-white-v1"

    def __init__(self, threshold: float = 14.0, work_side: int = 512) -> None:
        self.threshold = threshold
        self.work_side = work_side

    def mask(self, rgb: np.ndarray, alpha: np.ndarray | None, item: str) -> np.ndarray:
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected (H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
        h, w = rgb.shape[:2]
        if alpha is not None:
            mask = np.where(alpha >= 128, 255, 0).astype(np.uint8)
        else:
            scale = min(1.0, self.work_side / max(h, w))
            small = (
                cv2.resize(
                    rgb,
                    (max(1, round(w * scale)), max(1, round(h * scale))),
                    interpolation=cv2.INTER_AREA,
                )
                if scale < 1.0
                else rgb
            )
            mask = self._mask_small(small)
            if scale < 1.0:
                mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
                mask = np.where(mask >= 128, 255, 0).astype(np.uint8)
        mask = _largest_component(_fill_holes(mask))
        area = int(np.count_nonzero(mask))
        if area < 0.005 * h * w:
            raise InvalidInputError(item, "no garment found: the image is all background")
        return mask

    def _mask_small(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        b = max(1, min(h, w) // 50)
        border = np.concatenate(
            [
                rgb[:b].reshape(-1, 3),
                rgb[-b:].reshape(-1, 3),
                rgb[:, :b].reshape(-1, 3),
                rgb[:, -b:].reshape(-1, 3),
            ]
        )
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        bg = np.median(cv2.cvtColor(border[None], cv2.COLOR_RGB2LAB)[0].astype(np.float32), 0)
        spread = np.percentile(
            np.linalg.norm(cv2.cvtColor(border[None], cv2.COLOR_RGB2LAB)[0] - bg, axis=1), 90
        )
        dist = np.linalg.norm(lab - bg, axis=2)
        fg = (dist > max(self.threshold, 2.5 * float(spread))).astype(np.uint8) * 255
        k = max(3, (min(h, w) // 150) | 1)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, kernel)
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, kernel)
        return fg


MASKERS = {"classical": WhiteBackgroundMasker}


def make_masker(name: str) -> Masker:
    """The masker registered under `name`."""
    try:
        return MASKERS[name]()
    except KeyError:
        raise ValueError(f"unknown masker {name!r}; available: {', '.join(MASKERS)}") from None

"""Garment onto a fixed canvas: CP-VTON's 256x192 white frame, and a high-resolution copy.

The VITON dataset's `cloth/` images show the garment centred, upright and filling most of
the frame on white, with `cloth-mask/` beside them; networks trained on it expect exactly
that. The high-resolution copy (same layout, 4x) keeps prints sharp for renderers that
work at the person photo's resolution.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["CP_VTON_SIZE", "HIRES_SIZE", "normalise_garment"]

CP_VTON_SIZE = (256, 192)  # (height, width)
HIRES_SIZE = (1024, 768)


def normalise_garment(
    rgb: np.ndarray, mask: np.ndarray, size: tuple[int, int] = CP_VTON_SIZE, fill: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale the masked garment onto a white canvas.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        Product photo.
    mask : (H, W) uint8 {0, 255}
        Garment mask of the photo; must not be empty.
    size : (height, width)
        Canvas size.
    fill : float
        Fraction of the canvas the garment's longer relative side fills.

    Returns
    -------
    (h, w, 3) uint8 garment on white, and (h, w) uint8 {0, 255} mask.
    """
    if rgb.shape[:2] != mask.shape:
        raise ValueError(f"image {rgb.shape} and mask {mask.shape} differ in size")
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise ValueError("empty mask")
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    crop = rgb[y0:y1, x0:x1]
    crop_mask = mask[y0:y1, x0:x1]
    ch, cw = crop_mask.shape
    out_h, out_w = size
    scale = min(fill * out_h / ch, fill * out_w / cw)
    new_w, new_h = max(1, round(cw * scale)), max(1, round(ch * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.resize(crop, (new_w, new_h), interpolation=interp)
    soft = cv2.resize(crop_mask, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    crop_mask = np.where(soft >= 128, 255, 0).astype(np.uint8)
    canvas = np.full((out_h, out_w, 3), 255, np.uint8)
    canvas_mask = np.zeros((out_h, out_w), np.uint8)
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    region = canvas[top : top + new_h, left : left + new_w]
    keep = crop_mask > 0
    region[keep] = crop[keep]
    canvas_mask[top : top + new_h, left : left + new_w] = crop_mask
    return canvas, canvas_mask

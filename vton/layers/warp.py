"""Warping the cloth and its mask with a GMM sampling grid, with the reference's semantics.

CP-VTON was trained with torch 0.4, whose `grid_sample` treated -1 and 1 as the centres of
the corner pixels; that is ``align_corners=True`` today (the default changed in torch 1.3,
and using the new default shifts every warp by half a pixel). The cloth is sampled with
``border`` padding (outside the garment the edge colour continues, which TOM later masks
out) and the mask with ``zeros`` (outside the garment is "no garment").

Convention: cloth (B, 3, H, W) float in [-1, 1]; mask (B, 1, H, W) float in {0, 1};
grid (B, H', W', 2) float (x, y) in [-1, 1]; outputs at (H', W'), bilinear, float32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["warp_cloth", "warp_mask", "warp_for_tom"]


def _check(image: torch.Tensor, grid: torch.Tensor, channels: int, what: str) -> None:
    if image.ndim != 4 or image.shape[1] != channels:
        raise ValueError(
            f"expected {what} of shape (B, {channels}, H, W), got {tuple(image.shape)}"
        )
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != image.shape[0]:
        raise ValueError(
            f"expected grid of shape ({image.shape[0]}, H, W, 2), got {tuple(grid.shape)}"
        )


def warp_cloth(cloth: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Sample (B, 3, H, W) cloth at `grid` -> (B, 3, H', W'), border padding."""
    _check(cloth, grid, 3, "cloth")
    return F.grid_sample(
        cloth, grid.to(cloth.dtype), mode="bilinear", padding_mode="border", align_corners=True
    )


def warp_mask(mask: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Sample (B, 1, H, W) mask at `grid` -> (B, 1, H', W') in [0, 1], zero padding."""
    _check(mask, grid, 1, "mask")
    return F.grid_sample(
        mask, grid.to(mask.dtype), mode="bilinear", padding_mode="zeros", align_corners=True
    )


def warp_for_tom(
    cloth: torch.Tensor, mask: torch.Tensor, grid: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The TOM's garment inputs: (warped cloth, binary warped mask) in float32. The mask is
    thresholded at 128/255, as the references read it back from an 8-bit PNG between their
    GMM and TOM runs."""
    grid = grid.float()
    warped = warp_cloth(cloth, grid).float()
    return warped, (warp_mask(mask, grid) * 255 >= 128).float()

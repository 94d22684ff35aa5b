"""The references' training losses: L1 warp loss, CP-VTON+'s grid regulariser, VGG19
perceptual loss, and the TOM's composite losses.

- GMM (both references' `train.py`): ``L1(warp(cloth, grid), parse_cloth)`` (border
  padding, `align_corners=True` as torch 0.4 did), plus, for CP-VTON+, ``40 * gic(grid)``.
- `gic_loss` (CP-VTON+ `GicLoss`, "grid interval consistency"): for every interior grid
  point, how unequal its distances to the left and right neighbours are (x) and to the up
  and down neighbours (y), ``sum(||gx_l - gx_c| - |gx_r - gx_c|| + ||gy_u - gy_c| -
  |gy_d - gy_c||)``, divided by B * H * W as their train.py does. An affine grid scores 0.
- `VGGLoss`: ``sum_i w_i * L1(vgg_i(x), vgg_i(y))`` over relu1_1..relu5_1 with weights
  1/32, 1/16, 1/8, 1/4, 1, the target's features detached (CP-VTON `networks.VGGLoss`).
- TOM: ``L1(tryon, image) + VGG(tryon, image) + L1(mask, target)``; the target and the
  composite differ by variant (`tom_outputs`).

Convention: images (B, 3, H, W) float in [-1, 1]; masks (B, 1, H, W) in [0, 1]; grids
(B, H, W, 2) (x, y) in [-1, 1].
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from vton.layers import warp_cloth
from vton.models.cpvton_tom import compose_tryon
from vton.train.vgg import Vgg19Features

__all__ = [
    "VGG_LAYER_WEIGHTS",
    "GmmLosses",
    "TomLosses",
    "VGGLoss",
    "gic_loss",
    "gmm_losses",
    "tom_outputs",
    "tom_losses",
]

VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


def gic_loss(grid: torch.Tensor) -> torch.Tensor:
    """CP-VTON+'s grid regulariser of a (B, H, W, 2) sampling grid, normalised per grid
    point (divided by B * H * W); 0 for any affine grid. Needs H, W >= 3."""
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[1] < 3 or grid.shape[2] < 3:
        raise ValueError(f"expected a (B, H, W, 2) grid with H, W >= 3, got {tuple(grid.shape)}")
    gx, gy = grid[..., 0].float(), grid[..., 1].float()
    cx, cy = gx[:, 1:-1, 1:-1], gy[:, 1:-1, 1:-1]
    left = (gx[:, 1:-1, :-2] - cx).abs()
    right = (gx[:, 1:-1, 2:] - cx).abs()
    up = (gy[:, :-2, 1:-1] - cy).abs()
    down = (gy[:, 2:, 1:-1] - cy).abs()
    total = ((left - right).abs() + (up - down).abs()).sum()
    return total / (grid.shape[0] * grid.shape[1] * grid.shape[2])


class GmmLosses(NamedTuple):
    """total = warp + gic_weight * gic; all scalars."""

    total: torch.Tensor
    warp: torch.Tensor
    gic: torch.Tensor


def gmm_losses(
    cloth: torch.Tensor, grid: torch.Tensor, target: torch.Tensor, gic_weight: float
) -> tuple[GmmLosses, torch.Tensor]:
    """Warp `cloth` (B, 3, H, W) with `grid`; L1 against `target` (the person's cloth
    region, ``parse_cloth``) plus the weighted grid regulariser. Returns the losses and the
    warped cloth."""
    warped = warp_cloth(cloth, grid.float())
    warp = F.l1_loss(warped.float(), target.float())
    # Without GIC: zero, but NaN when the grid is. Border padding samples finite values at
    # NaN positions, so a diverged GMM could otherwise show a finite loss, and the trainer
    # would run the backward through the NaN grid (which crashes torch 2.13's CPU
    # grid_sample backward) instead of stopping on the non-finite loss.
    gic = gic_loss(grid) if gic_weight > 0 else grid.float().sum().mul(0.0).abs()
    return GmmLosses(warp + gic_weight * gic, warp, gic), warped


class VGGLoss(nn.Module):
    """Weighted L1 between VGG19 relu1_1..relu5_1 features of `x` and `y` (y detached).

    The VGG is frozen; the loss is computed in float32 whatever autocast says, because the
    deep activations overflow fp16.
    """

    def __init__(self, vgg: Vgg19Features, weights: tuple[float, ...] = VGG_LAYER_WEIGHTS) -> None:
        super().__init__()
        if len(weights) != 5:
            raise ValueError(f"expected 5 layer weights, got {len(weights)}")
        self.vgg = vgg.eval()
        for p in self.vgg.parameters():
            p.requires_grad_(False)
        self.weights = tuple(float(w) for w in weights)

    def train(self, mode: bool = True) -> VGGLoss:
        super().train(mode)
        self.vgg.eval()  # no dropout or batch norm, but keep it in eval regardless
        return self

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape != y.shape:
            raise ValueError(f"shapes differ: {tuple(x.shape)} vs {tuple(y.shape)}")
        with torch.autocast(device_type=x.device.type, enabled=False):
            fx = self.vgg(x.float())
            with torch.no_grad():
                fy = self.vgg(y.float())
            return sum(
                w * F.l1_loss(a, b.detach()) for w, a, b in zip(self.weights, fx, fy, strict=True)
            )


class TomLosses(NamedTuple):
    """total = l1 + vgg_weight * vgg + mask_weight * mask; all scalars."""

    total: torch.Tensor
    l1: torch.Tensor
    vgg: torch.Tensor
    mask: torch.Tensor


def tom_outputs(
    raw: torch.Tensor, warped_cloth: torch.Tensor, warped_mask: torch.Tensor, variant: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """TOM's raw (B, 4, H, W) output -> (rendered, composition mask, try-on), in float32,
    as each reference composes (`vton.models.cpvton_tom.compose_tryon`: CP-VTON restricts
    the mask to the warped cloth, CP-VTON+ uses it as it is)."""
    out = compose_tryon(raw.float(), warped_cloth, warped_mask if variant == "cpvton" else None)
    return out.rendered, out.mask, out.tryon


def tom_losses(
    tryon: torch.Tensor,
    mask: torch.Tensor,
    image: torch.Tensor,
    mask_target: torch.Tensor,
    vgg: VGGLoss | None,
    *,
    vgg_weight: float = 1.0,
    mask_weight: float = 1.0,
) -> TomLosses:
    """L1(tryon, image) + vgg_weight * VGG(tryon, image) + mask_weight * L1(mask, target).

    `mask_target` is the warped cloth mask (CP-VTON) or the person's cloth region
    (CP-VTON+). Without `vgg` the perceptual term is 0 (reported as such)."""
    l1 = F.l1_loss(tryon, image.float())
    m = F.l1_loss(mask, mask_target.float())
    p = vgg(tryon, image) if vgg is not None and vgg_weight > 0 else l1.new_zeros(())
    return TomLosses(l1 + vgg_weight * p + mask_weight * m, l1, p, m)

"""Intersection over union of masks: CP-VTON+'s warping metric, the GMM's warped cloth
mask against the cloth region of the person's parse (labels 5, 6, 7), on same-cloth pairs.

Convention: (B, 1, H, W) float in [0, 1] (soft masks are thresholded at `threshold`);
returns (B,) float64. Two empty masks agree perfectly: IoU 1.
"""

from __future__ import annotations

import torch

__all__ = ["mask_iou"]


def mask_iou(pred: torch.Tensor, target: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """IoU of ``pred >= threshold`` and ``target >= threshold`` per image -> (B,)."""
    if pred.shape != target.shape or pred.ndim != 4 or pred.shape[1] != 1:
        raise ValueError(f"expected two (B, 1, H, W) masks of one shape, got "
                         f"{tuple(pred.shape)} and {tuple(target.shape)}")  # fmt: skip
    p = pred.detach() >= threshold
    t = target.detach() >= threshold
    inter = (p & t).sum(dim=(1, 2, 3)).double()
    union = (p | t).sum(dim=(1, 2, 3)).double()
    return torch.where(union > 0, inter / union.clamp(min=1), torch.ones_like(union))

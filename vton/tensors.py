"""The only conversions between numpy images and torch tensors.

Conventions (fixed across the project): files and numpy arrays are HWC uint8 RGB, 0..255,
masks HW uint8 {0, 255}; torch tensors are NCHW float32, in [-1, 1] at model boundaries,
masks in {0, 1}. Converting anywhere else (a bare `astype`, a forgotten `/ 255`) is how
off-by-a-range bugs creep in.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["image_to_tensor", "tensor_to_image", "mask_to_tensor", "tensor_to_mask"]


def image_to_tensor(arr: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 0..255 -> (1, 3, H, W) float32 in [-1, 1]."""
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"expected (H, W, 3) uint8, got {arr.shape} {arr.dtype}")
    t = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).float()
    return (t / 127.5 - 1.0).unsqueeze(0)


def tensor_to_image(t: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) or (3, H, W) float in [-1, 1] -> (H, W, 3) uint8 0..255."""
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ValueError(f"expected a batch of one, got {tuple(t.shape)}")
        t = t[0]
    if t.ndim != 3 or t.shape[0] != 3:
        raise ValueError(f"expected (3, H, W), got {tuple(t.shape)}")
    arr = ((t.detach().float().cpu().clamp(-1, 1) + 1.0) * 127.5).round()
    return arr.to(torch.uint8).permute(1, 2, 0).numpy()


def mask_to_tensor(mask: np.ndarray) -> torch.Tensor:
    """(H, W) uint8 {0, 255} -> (1, 1, H, W) float32 {0, 1}."""
    if mask.dtype != np.uint8 or mask.ndim != 2:
        raise ValueError(f"expected (H, W) uint8, got {mask.shape} {mask.dtype}")
    return torch.from_numpy((mask >= 128).astype(np.float32))[None, None]


def tensor_to_mask(t: torch.Tensor) -> np.ndarray:
    """(1, 1, H, W) or (H, W) float in [0, 1] -> (H, W) uint8 0..255 (soft values kept)."""
    t = t.detach().float().cpu().squeeze()
    if t.ndim != 2:
        raise ValueError(f"expected a single mask, got {tuple(t.shape)}")
    return (t.clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()

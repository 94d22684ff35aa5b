"""Structural similarity (Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From
Error Visibility to Structural Similarity", IEEE TIP 2004), as CP-VTON+ reports it for
same-cloth try-ons against the person photo.

The paper's definition: 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, dynamic
range L = 1 on images mapped to [0, 1]; each channel separately, averaged over the valid
window positions (no padding, so borders do not count twice) and over channels. Identical
images score exactly 1.

Convention: (B, C, H, W) float in [-1, 1] (the model boundary); H, W >= 11. Returns (B,)
float64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["ssim", "gaussian_window"]


def gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """(size, size) float64 Gaussian, summing to 1."""
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return g[:, None] * g[None, :]


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Mean SSIM of each image pair of `x` and `y` (B, C, H, W) in [-1, 1] -> (B,)."""
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"expected two (B, C, H, W) tensors of one shape, got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")  # fmt: skip
    if min(x.shape[2:]) < window:
        raise ValueError(f"images {tuple(x.shape[2:])} are smaller than the {window} px window")
    a = (x.detach().double().clamp(-1, 1) + 1) / 2
    b = (y.detach().double().clamp(-1, 1) + 1) / 2
    c = a.shape[1]
    w = gaussian_window(window, sigma).to(a.device)[None, None].expand(c, 1, window, window)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, w, groups=c)

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return (num / den).mean(dim=(1, 2, 3))

"""GMM feature extractor and the channel-wise L2 normalisation applied to its output.

The extractor is CP-VTON's (Wang et al., ECCV 2018; github.com/sergeywong/cp-vton, MIT):
four stride-2 4x4 convolutions (64-128-256-512) then two 3x3 convolutions at 512, each
followed by ReLU and then BatchNorm (ReLU *before* the norm, unlike most networks), the last
convolution with ReLU but no norm. The layers sit in one `nn.Sequential` named `model` at the
same indices as the reference, because those indices are the published checkpoints' keys
(``extractionA.model.0.weight`` ... ``extractionA.model.15.bias``).

In float32 inference on the CPU the two 3x3 convolutions run as Winograd F(4x4, 3x3)
(`vton.layers.winograd`; about twice oneDNN's direct convolution at 512 channels and 16x12,
equal up to float32 rounding; their transformed kernels take 72 MiB per extractor).
Training and CUDA take the layers as written.

Convention: input (B, C, H, W) float32, images in [-1, 1]; output (B, 512, H/16, W/16).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vton.layers.winograd import (
    cpu_float32_inference,
    weights_key,
    winograd_conv3x3_valid,
    winograd_kernels,
    winograd_tile,
)

__all__ = ["FeatureExtraction", "FeatureL2Norm", "feature_l2norm"]


class FeatureExtraction(nn.Module):
    """(B, in_chans, H, W) -> (B, 512, H/16, W/16) features (non-negative: ReLU then BN's
    affine can make them signed, so no range is promised)."""

    def __init__(self, in_chans: int, ngf: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        self.in_chans = in_chans
        layers: list[nn.Module] = [
            nn.Conv2d(in_chans, ngf, kernel_size=4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.BatchNorm2d(ngf),
        ]
        for i in range(n_layers):
            # Widths double up to 512 and stay there (the reference's rule).
            c_in = min(2**i * ngf, 512)
            c_out = 2 * c_in if 2**i * ngf < 512 else 512
            layers += [
                nn.Conv2d(c_in, c_out, kernel_size=4, stride=2, padding=1),
                nn.ReLU(inplace=True),
                nn.BatchNorm2d(c_out),
            ]
        layers += [
            nn.Conv2d(512, 512, kernel_size=3, stride=1, padding=1),
            nn.ReLU(inplace=True),
            nn.BatchNorm2d(512),
            nn.Conv2d(512, 512, kernel_size=3, stride=1, padding=1),
            nn.ReLU(inplace=True),
        ]
        self.model = nn.Sequential(*layers)
        # layer index -> (weights key, tile, transformed kernels); not in the state dict
        self._winograd: dict[int, tuple[tuple, int, torch.Tensor]] = {}

    def _conv3x3(self, i: int, conv: nn.Conv2d, x: torch.Tensor, tile: int) -> torch.Tensor:
        key = weights_key(conv.weight, conv.bias)
        cached = self._winograd.get(i)
        if cached is None or cached[0] != key or cached[1] != tile:
            cached = self._winograd[i] = (key, tile, winograd_kernels(conv.weight, tile))
        return winograd_conv3x3_valid(F.pad(x, (1, 1, 1, 1)), cached[2], conv.bias, tile)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f"expected (B, {self.in_chans}, H, W) input, got {tuple(x.shape)}")
        if not cpu_float32_inference(x):
            return self.model(x)
        for i, layer in enumerate(self.model):
            tile = winograd_tile(x.shape[2], x.shape[3])
            if isinstance(layer, nn.Conv2d) and layer.kernel_size == (3, 3) and tile:
                x = self._conv3x3(i, layer, x, tile)
            else:
                x = layer(x)
        return x


def feature_l2norm(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Divide (B, C, H, W) features by their L2 norm over C, as the reference does:
    x / sqrt(sum_c x^2 + eps). `eps` sits inside the square root (not `F.normalize`'s
    clamp), which matters for near-zero feature vectors."""
    return x / torch.sqrt(x.pow(2).sum(dim=1, keepdim=True) + eps)


class FeatureL2Norm(nn.Module):
    """Module form of `feature_l2norm` (no parameters; kept so the GMM's attribute layout
    reads like the reference's)."""

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return feature_l2norm(x, self.eps)

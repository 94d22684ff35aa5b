"""GMM feature extractor and the channel-wise L2 normalisation applied to its output.

The extractor is CP-VTON's (Wang et al., ECCV 2018; github.com/sergeywong/cp-vton, MIT):
four stride-2 4x4 convolutions (64-128-256-512) then two 3x3 convolutions at 512, each
followed by ReLU and then BatchNorm (ReLU *before* the norm, unlike most networks), the last
convolution with ReLU but no norm. The layers sit in one `nn.Sequential` named `model` at the
same indices as the reference, because those indices are the published checkpoints' keys
(``extractionA.model.0.weight`` ... ``extractionA.model.15.bias``).

Convention: input (B, C, H, W) float32, images in [-1, 1]; output (B, 512, H/16, W/16).
"""

from __future__ import annotations

import torch
from torch import nn

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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f"expected (B, {self.in_chans}, H, W) input, got {tuple(x.shape)}")
        return self.model(x)


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

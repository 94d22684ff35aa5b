"""Dense feature correlation between the person and the cloth features (the GMM's matching
layer).

Every position of feature map A is compared with every position of feature map B by a dot
product over channels. The output's channel index enumerates A's positions in the
reference's order, *column-major* (k = w_a * H + h_a), because the reference flattens A
after transposing H and W; the regression head's weights were trained on that order, so it
is part of the checkpoint format.

Convention: inputs (B, C, H, W) float, usually L2-normalised over C; output
(B, H*W, H, W) with ``out[b, w_a*H + h_a, i, j] = <A[b, :, h_a, w_a], B[b, :, i, j]>``.
At 256x192 the features are 16x12, so the output is (B, 192, 16, 12).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["FeatureCorrelation", "feature_correlation"]


def feature_correlation(feature_a: torch.Tensor, feature_b: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) x (B, C, H, W) -> (B, H*W, H, W); see the module docstring for the order.

    One batched matmul with A's positions as rows; the output is contiguous, with no
    transposes of the (B, H*W, H*W) product.
    """
    if feature_a.shape != feature_b.shape or feature_a.ndim != 4:
        raise ValueError(
            "expected two (B, C, H, W) feature maps of the same shape, got "
            f"{tuple(feature_a.shape)} and {tuple(feature_b.shape)}"
        )
    b, c, h, w = feature_a.shape
    a_cols = feature_a.transpose(2, 3).reshape(b, c, h * w)  # column-major positions of A
    b_rows = feature_b.reshape(b, c, h * w)  # row-major positions of B
    return torch.bmm(a_cols.transpose(1, 2), b_rows).view(b, h * w, h, w)


class FeatureCorrelation(nn.Module):
    """Module form of `feature_correlation` (no parameters)."""

    def forward(self, feature_a: torch.Tensor, feature_b: torch.Tensor) -> torch.Tensor:
        return feature_correlation(feature_a, feature_b)

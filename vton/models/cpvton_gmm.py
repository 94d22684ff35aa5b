"""CP-VTON / CP-VTON+ Geometric Matching Module (GMM): regresses a thin-plate-spline warp
that fits the in-shop garment onto the person.

Papers: Wang et al., "Toward Characteristic-Preserving Image-based Virtual Try-On Network",
ECCV 2018 (https://github.com/sergeywong/cp-vton, MIT); Minar et al., "CP-VTON+: Clothing
Shape and Texture Preserving Image-Based Virtual Try-On", CVPRW 2020
(https://github.com/minar09/cp-vton-plus, MIT). Written from the papers and the published
checkpoints' key layout; module names match the reference so `gmm_final.pth` loads with
``strict=True`` (104 keys).

The two variants differ only in the cloth branch's input: CP-VTON matches the cloth RGB
(3 channels, in [-1, 1]), CP-VTON+ the cloth mask (1 channel, in {0, 1}).

Pipeline: person features (22 -> 512 @ 16x12) and cloth features, each L2-normalised over
channels, are correlated position by position (192 @ 16x12), regressed to 50 TPS offsets
(tanh), and turned into a (B, 256, 192, 2) sampling grid (`vton.layers.TpsGridGen`).
Warp with `vton.layers.warp_cloth` / `warp_mask`.

Convention: person representation (B, 22, 256, 192) float32 in [-1, 1]; cloth
(B, 3, 256, 192) in [-1, 1] or cloth mask (B, 1, 256, 192) in {0, 1}; grid
(B, 256, 192, 2) (x, y) in [-1, 1] for ``grid_sample(align_corners=True)``; theta (B, 50) in
(-1, 1): theta[:, :25] x offsets, theta[:, 25:] y offsets of the 5x5 control points.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from vton.layers import FeatureCorrelation, FeatureExtraction, FeatureL2Norm, TpsGridGen
from vton.models._registry import register_model
from vton.models.checkpoints import strip_module_prefix, with_checkpoint

__all__ = [
    "FeatureRegression",
    "CpVtonGmm",
    "checkpoint_filter_fn",
    "gmm_cpvton",
    "gmm_cpvton_plus",
]


class FeatureRegression(nn.Module):
    """Correlation volume (B, C, h, w) -> TPS offsets (B, out_dim) in (-1, 1).

    Two stride-2 4x4 and two 3x3 Conv-BN-ReLU layers (512-256-128-64), a linear layer on the
    flattened (64, h/4, w/4) map, tanh. Attribute names `conv`, `linear` are checkpoint keys.
    """

    def __init__(self, in_chans: int = 192, out_dim: int = 50, feat_hw: tuple[int, int] = (4, 3)):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_chans, 512, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(512),
            nn.ReLU(inplace=True),
            nn.Conv2d(512, 256, kernel_size=4, stride=2, padding=1),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 128, kernel_size=3, padding=1),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 64, kernel_size=3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
        )
        self.linear = nn.Linear(64 * feat_hw[0] * feat_hw[1], out_dim)
        self.tanh = nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # flatten is logical (C, H, W) order whatever the memory format, as the weights expect
        return self.tanh(self.linear(torch.flatten(self.conv(x), 1)))


class CpVtonGmm(nn.Module):
    """The GMM; ``forward(person, cloth) -> (grid, theta)``. See the module docstring."""

    def __init__(
        self,
        cloth_chans: int = 3,
        person_chans: int = 22,
        grid_size: int = 5,
        input_size: tuple[int, int] = (256, 192),
    ) -> None:
        super().__init__()
        h, w = input_size
        if h % 64 or w % 64:
            # four stride-2 convs in the extractors, two more in the regression head
            raise ValueError(f"input_size must be multiples of 64, got {input_size}")
        self.input_size = (h, w)
        self.cloth_chans = cloth_chans
        self.person_chans = person_chans
        feat_h, feat_w = h // 16, w // 16
        self.extractionA = FeatureExtraction(person_chans)
        self.extractionB = FeatureExtraction(cloth_chans)
        self.l2norm = FeatureL2Norm()
        self.correlation = FeatureCorrelation()
        self.regression = FeatureRegression(
            in_chans=feat_h * feat_w, out_dim=2 * grid_size**2, feat_hw=(feat_h // 4, feat_w // 4)
        )
        self.gridGen = TpsGridGen(h, w, grid_size)

    def forward(
        self, person: torch.Tensor, cloth: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """person (B, 22, H, W) in [-1, 1]; cloth (B, 3, H, W) in [-1, 1] (CP-VTON) or cloth
        mask (B, 1, H, W) in {0, 1} (CP-VTON+) -> grid (B, H, W, 2), theta (B, 50)."""
        h, w = self.input_size
        if person.ndim != 4 or tuple(person.shape[1:]) != (self.person_chans, h, w):
            raise ValueError(
                f"expected person representation (B, {self.person_chans}, {h}, {w}), "
                f"got {tuple(person.shape)}"
            )
        if cloth.ndim != 4 or tuple(cloth.shape[1:]) != (self.cloth_chans, h, w):
            what = "cloth" if self.cloth_chans == 3 else "cloth mask"
            raise ValueError(
                f"expected {what} (B, {self.cloth_chans}, {h}, {w}), got {tuple(cloth.shape)}"
            )
        if cloth.shape[0] != person.shape[0]:
            raise ValueError(
                f"batch sizes differ: person {person.shape[0]}, cloth {cloth.shape[0]}"
            )
        return self.match(self.person_features(person), self.cloth_features(cloth))

    # The two extractors see one input each, so a renderer that meets a person (or a
    # garment) in many pairs computes its features once and calls `match` per pair;
    # BatchNorm in eval mode is per sample, so the result is the same as `forward`'s.
    def person_features(self, person: torch.Tensor) -> torch.Tensor:
        """(B, 22, H, W) -> L2-normalised person features (B, 512, H/16, W/16)."""
        return self.l2norm(self.extractionA(person))

    def cloth_features(self, cloth: torch.Tensor) -> torch.Tensor:
        """Cloth (CP-VTON) or cloth mask (CP-VTON+) -> L2-normalised features."""
        return self.l2norm(self.extractionB(cloth))

    def match(
        self, person_features: torch.Tensor, cloth_features: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Features of `person_features` / `cloth_features` -> grid (B, H, W, 2), theta."""
        theta = self.regression(self.correlation(person_features, cloth_features))
        return self.gridGen(theta), theta


def checkpoint_filter_fn(state_dict: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """Adapt a published GMM state dict: strip ``module.``; drop TPS constants if a port
    saved them (they are recomputed, never loaded); add BatchNorm's `num_batches_tracked`
    where torch 0.4.0-era files lack it (it does not affect eval-mode outputs)."""
    sd = {k: v for k, v in strip_module_prefix(state_dict).items() if not k.startswith("gridGen.")}
    for key in model.state_dict():
        if key.endswith("num_batches_tracked") and key not in sd:
            sd[key] = torch.tensor(0, dtype=torch.long)
    return sd


def _create(
    cloth_chans: int, checkpoint_path: str | os.PathLike | None, **kwargs: Any
) -> CpVtonGmm:
    return with_checkpoint(
        CpVtonGmm(cloth_chans=cloth_chans, **kwargs), checkpoint_path, checkpoint_filter_fn
    )


@register_model(checkpoint_filter_fn)
def gmm_cpvton(checkpoint_path: str | os.PathLike | None = None, **kwargs: Any) -> CpVtonGmm:
    """CP-VTON GMM (cloth RGB branch); loads `checkpoint_path` strictly when given."""
    return _create(3, checkpoint_path, **kwargs)


@register_model(checkpoint_filter_fn)
def gmm_cpvton_plus(checkpoint_path: str | os.PathLike | None = None, **kwargs: Any) -> CpVtonGmm:
    """CP-VTON+ GMM (cloth mask branch); loads `checkpoint_path` strictly when given."""
    return _create(1, checkpoint_path, **kwargs)

"""VGG19's convolutional layers, for CP-VTON's perceptual loss, without torchvision.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015; the layer layout of torchvision's `vgg19` (configuration "E", no batch norm), so
that its published state dict (`vgg19-dcbb9e9d.pth`, BSD-3-Clause code; ImageNet-trained
weights) loads with ``strict=True`` under the same keys `features.N.weight` /
`features.N.bias` (N = 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34). The
classifier is not built: its keys are dropped by `checkpoint_filter_fn`.

`forward` returns the activations CP-VTON's `Vgg19` returns: relu1_1, relu2_1, relu3_1,
relu4_1, relu5_1 (after `features` indices 1, 6, 11, 20, 29); layers after 29 are built only
so that the state dict loads whole. The stack is `vton.layers.vgg.VggFeatures`, which LPIPS
builds its VGG16 with too.

Convention: input (B, 3, H, W) float32, in whatever range the caller trains with (the
references feed [-1, 1] images without ImageNet normalisation, and so does `VGGLoss`);
H, W >= 16.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from vton.layers.vgg import VggFeatures
from vton.models.checkpoints import load_weights, read_state_dict, strip_module_prefix

__all__ = ["Vgg19Features", "checkpoint_filter_fn", "load_vgg19", "RELU_X_1"]

#: torchvision's configuration "E": channels per conv, "M" for max-pool.
_CFG_E: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
    512, 512, 512, 512, "M",
)  # fmt: skip
#: `features` indices of relu1_1, relu2_1, relu3_1, relu4_1, relu5_1.
RELU_X_1 = (1, 6, 11, 20, 29)


class Vgg19Features(VggFeatures):
    """torchvision's `vgg19().features` layout; ``forward(x) -> [relu1_1 .. relu5_1]``."""

    def __init__(self) -> None:
        super().__init__(_CFG_E, RELU_X_1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3 or min(x.shape[2:]) < 16:
            raise ValueError(f"expected (B, 3, H, W) with H, W >= 16, got {tuple(x.shape)}")
        return super().forward(x)


def checkpoint_filter_fn(state_dict: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """torchvision VGG19 state dict -> `Vgg19Features`: strip ``module.``, drop the
    classifier (`classifier.*`), keep `features.*` unchanged."""
    return {
        k: v for k, v in strip_module_prefix(state_dict).items() if not k.startswith("classifier.")
    }


def load_vgg19(path: str | os.PathLike) -> Vgg19Features:
    """A frozen (no gradients, eval mode) `Vgg19Features` with the torchvision VGG19 weights
    at `path`; `vton.errors.CheckpointError` if the file is missing or does not fit."""
    model = Vgg19Features()
    load_weights(model, read_state_dict(path), source=str(path), filter_fn=checkpoint_filter_fn)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()

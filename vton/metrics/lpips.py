"""LPIPS (Zhang et al., "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric", CVPR 2018; github.com/richzhang/PerceptualSimilarity, BSD-2-Clause), VGG version,
from weights the user supplies (nothing is downloaded).

Two files: torchvision's VGG16 state dict (`vgg16-397923af.pth`; only `features.*` is used)
and LPIPS's linear layers for VGG (the `lpips` package's `weights/v0.1/vgg.pth`, keys
`lin0.model.1.weight` .. `lin4.model.1.weight`). Both load strictly.

Distance: inputs in [-1, 1] are shifted and scaled per channel (LPIPS's ScalingLayer), VGG16
activations at relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 are unit-normalised over
channels, their squared differences weighted per channel by the linear layers, averaged
over space and summed over layers. Identical images are at distance 0. The VGG16 stack is
`vton.layers.vgg.VggFeatures` (as the perceptual loss's VGG19), under LPIPS's attribute
name `net`.

Convention: (B, 3, H, W) float in [-1, 1], H, W >= 16 -> (B,) float.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from vton.layers.vgg import VggFeatures
from vton.models.checkpoints import load_weights, read_state_dict, strip_module_prefix

__all__ = ["Lpips", "load_lpips", "LPIPS_CHANNELS"]

#: torchvision's configuration "D" (VGG16): channels per conv, "M" for max-pool.
_CFG_D: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip
#: `features` indices of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in torchvision's VGG16.
_TAPS = (3, 8, 15, 22, 29)
LPIPS_CHANNELS = (64, 128, 256, 512, 512)


class _Lin(nn.Module):
    """LPIPS's NetLinLayer: dropout (inactive in eval) and a bias-free 1x1 conv to 1."""

    def __init__(self, chans: int) -> None:
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(chans, 1, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class Lpips(nn.Module):
    """LPIPS-VGG; ``forward(x, y) -> (B,)`` distances. Build with `load_lpips`."""

    def __init__(self) -> None:
        super().__init__()
        self.net = VggFeatures(_CFG_D, _TAPS)
        for k, c in enumerate(LPIPS_CHANNELS):
            self.add_module(f"lin{k}", _Lin(c))
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188])[None, :, None, None])
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450])[None, :, None, None])

    @torch.no_grad()
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if x.shape != y.shape or x.ndim != 4 or x.shape[1] != 3 or min(x.shape[2:]) < 16:
            raise ValueError(
                f"expected two (B, 3, H, W) tensors, H, W >= 16, got {tuple(x.shape)} and "
                f"{tuple(y.shape)}"
            )
        fx = self.net((x.float() - self.shift) / self.scale)
        fy = self.net((y.float() - self.shift) / self.scale)
        total = x.new_zeros(x.shape[0], dtype=torch.float32)
        for k, (a, b) in enumerate(zip(fx, fy, strict=True)):
            a = a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            b = b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            lin = getattr(self, f"lin{k}")
            total = total + lin((a - b) ** 2).mean(dim=(1, 2, 3))
        return total


def load_lpips(
    backbone: str | os.PathLike, linear: str | os.PathLike, device: str | torch.device = "cpu"
) -> Lpips:
    """LPIPS-VGG from a torchvision VGG16 state dict and LPIPS's `vgg.pth` linear weights
    (both strict, weights-only; `vton.errors.CheckpointError` on any misfit)."""
    model = Lpips()
    vgg = {
        k: v
        for k, v in strip_module_prefix(read_state_dict(backbone)).items()
        if k.startswith("features.")
    }
    load_weights(model.net, vgg, source=str(backbone))
    lin = {k: v for k, v in read_state_dict(linear).items() if k.startswith("lin")}
    lin_model = nn.ModuleDict({f"lin{k}": getattr(model, f"lin{k}") for k in range(5)})
    load_weights(lin_model, lin, source=str(linear))
    return model.eval().to(device)

"""VGG's convolutional stack (Simonyan & Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015), laid out as torchvision's `vgg*().features`
(BSD-3-Clause code), built without torchvision.

One builder for the frozen feature networks of the perceptual loss (VGG19,
`vton.train.vgg`) and of LPIPS (VGG16, `vton.metrics.lpips`): the layers sit in a
`features` `nn.Sequential` at torchvision's indices, so torchvision's published state dicts
load with ``strict=True`` under the same keys `features.N.weight` / `features.N.bias`.
Nothing is downloaded; the weights come from files the callers name.

Convention: input (B, 3, H, W) float32, in whatever range the caller's weights expect;
H and W at least 2 ** (max-pools before the deepest tap), so that no pooled map is empty
(16 for relu5_*). Output: (B, C_k, H / 2**p_k, W / 2**p_k) float32 per tap.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["VggFeatures", "vgg_features"]


def vgg_features(cfg: Sequence[int | str]) -> nn.Sequential:
    """torchvision's `make_layers(cfg, batch_norm=False)`: a 3x3 conv (padding 1) and a
    ReLU per channel count in `cfg`, a 2x2 max-pool (stride 2) per ``"M"``."""
    layers: list[nn.Module] = []
    in_chans = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(in_chans, int(v), kernel_size=3, padding=1), nn.ReLU()]
            in_chans = int(v)
    return nn.Sequential(*layers)


class VggFeatures(nn.Module):
    """``features`` as torchvision builds it for `cfg`; ``forward(x)`` returns the
    activations after the `features` indices in `taps` (ascending), in that order, and
    stops at the last one.

    Every layer of `cfg` is built, also those after the last tap, so that the whole
    published state dict loads; they cost parameters, not time.
    """

    def __init__(self, cfg: Sequence[int | str], taps: Sequence[int]) -> None:
        super().__init__()
        self.features = vgg_features(cfg)
        taps = tuple(int(i) for i in taps)
        if (
            not taps
            or list(taps) != sorted(set(taps))
            or not 0 <= taps[0] <= taps[-1] < len(self.features)
        ):
            raise ValueError(
                f"taps must be ascending distinct indices in 0..{len(self.features) - 1}, "
                f"got {taps}"
            )
        self.taps = taps

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in self.taps:
                out.append(x)
                if i == self.taps[-1]:
                    break
        return out

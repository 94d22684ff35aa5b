"""The U-Net of CP-VTON's try-on module (TOM), block by block as in the reference.

Each level is a `UnetSkipConnectionBlock` whose layers sit in one `nn.Sequential` named
`model`, nesting the next level at a fixed index; those indices are the published
checkpoints' keys (``model.model.0.weight``, ``model.model.1.model.1.weight``, ...). Down:
LeakyReLU(0.2) -> Conv4x4/s2 -> InstanceNorm; up: ReLU -> bilinear x2 upsampling -> Conv3x3
-> InstanceNorm. Norms are InstanceNorm2d without affine parameters or running statistics
(so they have no keys), convolutions have biases, and the outermost block ends with an
InstanceNorm on the output channels too, as the reference does.

One quirk is kept on purpose. The reference's down-path LeakyReLU is in place, and it runs
on the same tensor the block then concatenates as its skip connection, so the skip carries
the *activated* features, not the raw ones. The checkpoints were trained that way; here it is
written out explicitly (`skip = leaky_relu(x)`) instead of relying on in-place aliasing.

Upsampling is bilinear with ``align_corners=False`` (the default from torch 0.4.0 on, which
the reference was trained with). In float32 inference on the CPU (no autograd, no autocast)
each block computes upsample + Conv3x3 together at the low resolution, or on the deepest
levels by Winograd at the high resolution (`vton.layers.upsample_conv`), which is the same
function up to float32 rounding and about twice as fast there; `fast_upsample = False`
turns that off. Training and CUDA take the
layers as written.

Convention: (B, C_in, H, W) float32 with H and W divisible by 2**num_downs; output
(B, C_out, H, W), unbounded (instance-normalised, before any tanh/sigmoid).
"""

from __future__ import annotations

import torch
from torch import nn

from vton.layers.upsample_conv import (
    PreparedUpsampleConv,
    prepare_upsample_conv,
    upsample_conv3x3,
)
from vton.layers.winograd import cpu_float32_inference, weights_key

__all__ = ["UnetSkipConnectionBlock", "build_unet"]


class UnetSkipConnectionBlock(nn.Module):
    """One U-Net level. `outer_nc`: channels this block returns (before the skip concat of
    non-outermost blocks); `inner_nc`: channels after its down convolution; `in_nc`: its
    input channels (defaults to `outer_nc`)."""

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        in_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
    ) -> None:
        super().__init__()
        if outermost and innermost:
            raise ValueError("a block cannot be both outermost and innermost")
        if (submodule is None) != innermost:
            raise ValueError("exactly the innermost block has no submodule")
        self.outermost = outermost
        in_nc = outer_nc if in_nc is None else in_nc
        down_conv = nn.Conv2d(in_nc, inner_nc, kernel_size=4, stride=2, padding=1, bias=True)
        # Innermost has no skip from below; the others see [skip, submodule output].
        up_in = inner_nc if innermost else inner_nc * 2
        up = [
            nn.ReLU(inplace=True),
            nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
            nn.Conv2d(up_in, outer_nc, kernel_size=3, stride=1, padding=1, bias=True),
            nn.InstanceNorm2d(outer_nc),
        ]
        if outermost:
            layers = [down_conv, submodule, *up]
        elif innermost:
            layers = [nn.LeakyReLU(0.2), down_conv, *up]
        else:
            layers = [nn.LeakyReLU(0.2), down_conv, nn.InstanceNorm2d(inner_nc), submodule, *up]
        self.model = nn.Sequential(*layers)
        #: Compute upsample + Conv3x3 at the low resolution where it applies (see the
        #: module docstring). Not a parameter: the state dict is the reference's.
        self.fast_upsample = True
        self._prepared: PreparedUpsampleConv | None = None

    def _fast_path(self, x: torch.Tensor) -> bool:
        return self.fast_upsample and cpu_float32_inference(x)

    def _upsample_conv(self, x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
        prepared = self._prepared
        if prepared is None or prepared.key != weights_key(conv.weight, conv.bias):
            prepared = self._prepared = prepare_upsample_conv(conv.weight, conv.bias)
        return upsample_conv3x3(x, prepared)

    def _run(self, layers: list[nn.Module], y: torch.Tensor) -> torch.Tensor:
        fast = self._fast_path(y)
        i = 0
        while i < len(layers):
            layer = layers[i]
            if fast and isinstance(layer, nn.Upsample):
                y = self._upsample_conv(y, layers[i + 1])
                i += 2
                continue
            y = layer(y)
            i += 1
        return y

    def forward_after_down_conv(self, y: torch.Tensor) -> torch.Tensor:
        """The outermost block from its first convolution's output on: for callers that
        compute that (linear) convolution in parts (`CpVtonTom.person_term`)."""
        if not self.outermost:
            raise ValueError("only the outermost block starts with its down convolution")
        return self._run(list(self.model)[1:], y)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = list(self.model)
        if self.outermost:
            return self._run(layers, x)
        skip = layers[0](x)  # LeakyReLU: the skip carries activated features (see above)
        return torch.cat([skip, self._run(layers[1:], skip)], dim=1)


def build_unet(in_chans: int, out_chans: int, num_downs: int = 6, ngf: int = 64) -> nn.Module:
    """The outermost block of the reference's `UnetGenerator(in_chans, out_chans, num_downs,
    ngf, norm_layer=InstanceNorm2d)`: widths ngf, 2ngf, 4ngf, then 8ngf for the remaining
    `num_downs - 3` levels. Input H and W must be divisible by ``2**num_downs``."""
    if num_downs < 5:
        raise ValueError(f"num_downs must be >= 5, got {num_downs}")
    block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(num_downs - 5):
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block)
    block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block)
    block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block)
    block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block)
    return UnetSkipConnectionBlock(out_chans, ngf, in_nc=in_chans, submodule=block, outermost=True)

"""Bilinear x2 upsampling followed by a 3x3 convolution, computed at the low resolution.

Every up level of the TOM's U-Net upsamples (bilinear, ``align_corners=False``) and then
convolves (3x3, zero padding 1). Done as written, the convolution runs at four times the
pixels on an upsampled copy that holds no new information; on a CPU that copy, its memory
traffic and the convolution's poor shape (few output channels at many pixels: the outermost
level maps 128 channels to 4 at 256x192) cost about half the TOM's time.

Both steps are linear, so each of the four output phases (even/odd row x even/odd column)
is one 3x3 convolution of the low-resolution input, with the kernel ``A_a K A_b^T``
(`phase_weight`): upsampling by 2 reads, for an output row 2i + a, the input rows i - 1,
i, i + 1 with fixed weights 0.25 / 0.75. Stacking the four phases gives one convolution
with 4x the output channels at the input's resolution, followed by `pixel_shuffle`. Two
details make it exact rather than close:

- the upsampler clamps at the edges, which is the same as reading a replicate-padded
  input, so the phase convolution runs on ``pad(x, 1, "replicate")`` without padding;
- the convolution's zero padding lies *outside* the upsampled image, where the replicate
  padding put values instead; the ring those values came from (one upsampled row or column
  per side, `_border_correction`) is convolved with the kernel's matching edge row or
  column and subtracted. The corners are in the row terms, so nothing counts twice.

The phase convolution then runs either directly or as Winograd F(m x m, 3x3) (Lavin &
Gray, CVPR 2016) as (m + 2)^2 batched matrix products: F(4x4) does 36 multiplications per
4x4 output tile instead of 144, F(2x2) 16 per 2x2 tile instead of 36. It pays where
channels are many and pixels few (every up level but the outermost); measured on an AVX2
CPU core, F(4x4) is 1.7-2.7x the direct convolution there. The tile is the largest that
divides the input (4, else 2; else the phase convolution runs directly).

The border terms cost C x O x 3 multiplications per ring pixel, which on the deepest
levels (inputs of 4x3 and 8x6 in the TOM, where most pixels are on the ring) outweighs
what the low resolution saves. Inputs of at most `HIGH_RES_MAX_PIXELS` pixels are therefore
upsampled as written and convolved by Winograd at the high resolution instead (the same
multiplications per output as the phase form, no ring, and a tile that fits the doubled
size: the TOM's innermost level gets F(2x2) instead of a direct convolution, the next
F(4x4) instead of F(2x2)); measured here at batch 4 that is 2.4x (8x6) to 9x (4x3) the
low-resolution form, which stays faster from 16x12 up.

Results equal the upsample-then-convolve computation up to float32 rounding (relative
~1e-6 direct, ~5e-6 Winograd, from the reordered sums); `tests/models/test_upsample_conv.py`
holds each path to the layers as written, and the TOM fidelity tests hold the whole network
to the reference code.

Convention: x (B, C, H, W) float32 (already activated), H, W >= 2; weight (O, C, 3, 3),
bias (O,) or None -> (B, O, 2H, 2W).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from vton.layers.winograd import (
    weights_key,
    winograd_conv3x3_valid,
    winograd_kernels,
    winograd_tile,
)

__all__ = [
    "HIGH_RES_MAX_PIXELS",
    "PreparedUpsampleConv",
    "phase_weight",
    "prepare_upsample_conv",
    "upsample_conv3x3",
]

# Rows: input offsets -1, 0, +1; columns: the 3x3 kernel's taps -1, 0, +1, for an output
# at an even (a = 0) or odd (a = 1) position. Bilinear x2 with align_corners=False reads
# 0.25 / 0.75 of the two nearest inputs: out[2i] = .25 in[i-1] + .75 in[i],
# out[2i+1] = .75 in[i] + .25 in[i+1].
_PHASE = (
    torch.tensor([[0.75, 0.25, 0.0], [0.25, 0.75, 0.75], [0.0, 0.0, 0.25]], dtype=torch.float64),
    torch.tensor([[0.25, 0.0, 0.0], [0.75, 0.75, 0.25], [0.0, 0.25, 0.75]], dtype=torch.float64),
)
#: Phase convolutions with at least this many output channels (4x the layer's) use
#: Winograd; fewer, and the tile transforms cost more than the multiplications they save.
WINOGRAD_MIN_CHANNELS = 64
#: Inputs of at most this many pixels are upsampled and convolved at the high resolution
#: (module docstring): the TOM's 4x3 and 8x6 levels, not its 16x12 one (measured even).
HIGH_RES_MAX_PIXELS = 48


def phase_weight(weight: torch.Tensor) -> torch.Tensor:
    """(O, C, 3, 3) -> (4 O, C, 3, 3) phase kernels, output channel o's phases at
    4o .. 4o + 3 (the order `pixel_shuffle` reads them in); in float64."""
    w = weight.detach().double()
    mix = [m.to(w.device) for m in _PHASE]
    phases = torch.stack([torch.stack([a @ w @ b.T for b in mix]) for a in mix])
    return phases.permute(2, 0, 1, 3, 4, 5).reshape(-1, w.shape[1], 3, 3)


@dataclass(frozen=True)
class PreparedUpsampleConv:
    """One layer's derived kernels, made on first use for the path the input size takes
    (direct phase convolution, or Winograd with the tile the size allows) and kept only
    for it: on the TOM they are several times the size of its weights."""

    weight: torch.Tensor  # the layer's own (O, C, 3, 3), for the border terms
    bias: torch.Tensor | None  # (O,)
    phase_bias: torch.Tensor | None  # (4 O,)
    winograd: bool  # use Winograd where the input size allows
    key: tuple
    _kernels: dict[int, torch.Tensor] = field(default_factory=dict, repr=False)

    def kernels(self, tile: int | None) -> torch.Tensor:
        """Phase kernels (4 O, C, 3, 3) for tile None, else (t * t, C, 4 O) transformed
        ones for F(tile x tile, 3x3), t = tile + 2; float64 rounded once."""
        k = tile or 0
        if k not in self._kernels:
            phases = phase_weight(self.weight)
            self._kernels[k] = (
                phases.to(self.weight.dtype).contiguous()
                if tile is None
                else winograd_kernels(phases, tile).to(self.weight.dtype)
            )
        return self._kernels[k]

    def high_res_kernels(self, tile: int) -> torch.Tensor:
        """The layer's own kernels transformed for F(tile x tile, 3x3): (t * t, C, O)."""
        k = -tile  # negative keys: the high-resolution path's, beside the phase ones
        if k not in self._kernels:
            self._kernels[k] = winograd_kernels(self.weight, tile)
        return self._kernels[k]


def prepare_upsample_conv(
    weight: torch.Tensor, bias: torch.Tensor | None, winograd: bool | None = None
) -> PreparedUpsampleConv:
    """A layer's prepared form (kernels follow on first use). `winograd` None: by
    `WINOGRAD_MIN_CHANNELS` (on the phase convolution's 4 O output channels)."""
    if weight.ndim != 4 or weight.shape[2:] != (3, 3):
        raise ValueError(f"expected a (O, C, 3, 3) weight, got {tuple(weight.shape)}")
    use_wino = 4 * weight.shape[0] >= WINOGRAD_MIN_CHANNELS if winograd is None else winograd
    return PreparedUpsampleConv(
        weight=weight.detach(),
        bias=None if bias is None else bias.detach(),
        phase_bias=None if bias is None else bias.detach().repeat_interleave(4),
        winograd=use_wino,
        key=weights_key(weight, bias),
    )


def _edge_conv(line: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """Valid 1-D correlation of lines (N, C, L + 2) with taps (O, C, 3) -> (N, O, L), as
    one matrix product (oneDNN's convolutions are slow for 1 x L images of many channels)."""
    n, c, lp = line.shape
    cols = torch.stack([line[:, :, t : t + lp - 2] for t in range(3)], dim=2)  # (N, C, 3, L)
    return torch.matmul(taps.reshape(taps.shape[0], c * 3), cols.reshape(n, c * 3, lp - 2))


def _border_correction(x: torch.Tensor, weight: torch.Tensor, out: torch.Tensor) -> None:
    """Subtract, in place, what the replicate ring (instead of zero padding) added to the
    outermost rows and columns of `out` (see the module docstring)."""
    b = x.shape[0]
    h2, w2 = out.shape[2], out.shape[3]
    # the ring rows: the first / last input row upsampled along the width, extended by one
    # replicated value at each end (the corners, counted here and not in the columns)
    rows = F.interpolate(
        torch.cat([x[:, :, :1], x[:, :, -1:]]), size=(1, w2), mode="bilinear", align_corners=False
    )[:, :, 0]
    rows = F.pad(rows, (1, 1), mode="replicate")
    cols = F.interpolate(
        torch.cat([x[:, :, :, :1], x[:, :, :, -1:]]),
        size=(h2, 1),
        mode="bilinear",
        align_corners=False,
    )[..., 0]
    cols = F.pad(cols, (1, 1))  # zero: the corners are in the rows
    out[:, :, 0, :] -= _edge_conv(rows[:b], weight[:, :, 0, :])
    out[:, :, -1, :] -= _edge_conv(rows[b:], weight[:, :, 2, :])
    out[:, :, :, 0] -= _edge_conv(cols[:b], weight[:, :, :, 0])
    out[:, :, :, -1] -= _edge_conv(cols[b:], weight[:, :, :, 2])


def upsample_conv3x3(x: torch.Tensor, prepared: PreparedUpsampleConv) -> torch.Tensor:
    """``conv2d(interpolate(x, scale_factor=2, mode="bilinear"), weight, bias, padding=1)``
    computed at x's resolution (module docstring). Inference only: no autograd support is
    intended (it works, but training uses the plain layers)."""
    if x.ndim != 4 or x.shape[2] < 2 or x.shape[3] < 2:
        raise ValueError(f"expected (B, C, H, W) with H, W >= 2, got {tuple(x.shape)}")
    h, w = x.shape[2], x.shape[3]
    if prepared.winograd and h * w <= HIGH_RES_MAX_PIXELS:
        tile = winograd_tile(2 * h, 2 * w)  # 2 always divides the doubled size
        up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return winograd_conv3x3_valid(
            F.pad(up, (1, 1, 1, 1)), prepared.high_res_kernels(tile), prepared.bias, tile
        )
    xp = F.pad(x, (1, 1, 1, 1), mode="replicate")
    tile = winograd_tile(h, w) if prepared.winograd else None
    if tile is not None:
        y = winograd_conv3x3_valid(xp, prepared.kernels(tile), prepared.phase_bias, tile)
    else:
        y = F.conv2d(xp, prepared.kernels(None), prepared.phase_bias)
    out = F.pixel_shuffle(y, 2)
    _border_correction(x, prepared.weight, out)
    return out

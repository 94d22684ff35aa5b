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

The phase convolution then runs either directly or as Winograd F(2x2, 3x3) (Lavin & Gray,
CVPR 2016): 16 multiplications per 2x2 output tile instead of 36, as 16 batched matrix
products, which pays where channels are many and pixels few (every up level but the
outermost, measured on an AVX2 CPU: 1.7-2.7x on the deep levels; its 2x2 tiles need an
even input size, else the phase convolution runs directly). Results equal the
upsample-then-convolve computation up to float32 rounding (relative 1e-6 direct, 5e-6
Winograd, from the reordered sums); `tests/models/test_upsample_conv.py` holds both
to the reference, and the TOM fidelity tests hold the whole network to the reference code.

Convention: x (B, C, H, W) float32 (already activated), H, W >= 2; weight (O, C, 3, 3),
bias (O,) or None -> (B, O, 2H, 2W).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "PreparedUpsampleConv",
    "prepare_upsample_conv",
    "upsample_conv3x3",
    "weights_key",
]

# Rows: input offsets -1, 0, +1; columns: the 3x3 kernel's taps -1, 0, +1, for an output
# at an even (a = 0) or odd (a = 1) position. Bilinear x2 with align_corners=False reads
# 0.25 / 0.75 of the two nearest inputs: out[2i] = .25 in[i-1] + .75 in[i],
# out[2i+1] = .75 in[i] + .25 in[i+1].
_PHASE = (
    torch.tensor([[0.75, 0.25, 0.0], [0.25, 0.75, 0.75], [0.0, 0.0, 0.25]], dtype=torch.float64),
    torch.tensor([[0.25, 0.0, 0.0], [0.75, 0.75, 0.25], [0.0, 0.25, 0.75]], dtype=torch.float64),
)
# Winograd F(2x2, 3x3) kernel transform G (the input and output transforms are written out
# as additions in `_winograd_valid`).
_WINO_G = torch.tensor(
    [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]], dtype=torch.float64
)
#: Phase convolutions with at least this many output channels (4x the layer's) use
#: Winograd; fewer, and the tile transforms cost more than the multiplications they save.
WINOGRAD_MIN_CHANNELS = 64


@dataclass(frozen=True)
class PreparedUpsampleConv:
    """The derived weights of one layer, made once per weight version (`prepare_...`)."""

    weight: torch.Tensor  # the layer's own (O, C, 3, 3), for the border terms
    phase_weight: torch.Tensor  # (4 O, C, 3, 3), phase-major within each output channel
    phase_bias: torch.Tensor | None  # (4 O,)
    winograd: torch.Tensor | None  # (16, C, 4 O) transformed phase kernels, or None
    key: tuple


def weights_key(weight: torch.Tensor, bias: torch.Tensor | None) -> tuple:
    """Changes whenever the layer's weights do (in-place updates bump `_version`, loading
    a state dict copies in place), so derived kernels are rebuilt then and only then."""
    return (
        weight.data_ptr(),
        weight._version,
        weight.device,
        None if bias is None else (bias.data_ptr(), bias._version),
    )


def prepare_upsample_conv(
    weight: torch.Tensor, bias: torch.Tensor | None, winograd: bool | None = None
) -> PreparedUpsampleConv:
    """Derive the phase (and Winograd) kernels of a 3x3 convolution, in float64 then
    rounded once. `winograd` None: by `WINOGRAD_MIN_CHANNELS`."""
    if weight.ndim != 4 or weight.shape[2:] != (3, 3):
        raise ValueError(f"expected a (O, C, 3, 3) weight, got {tuple(weight.shape)}")
    w = weight.detach().double()
    phases = torch.stack([torch.stack([a @ w @ b.T for b in _PHASE]) for a in _PHASE])
    # (2, 2, O, C, 3, 3) -> (O, 2, 2, C, 3, 3): output channel o's phases are 4o .. 4o + 3,
    # the order `pixel_shuffle` reads them in
    phase_weight = phases.permute(2, 0, 1, 3, 4, 5).reshape(-1, w.shape[1], 3, 3)
    use_wino = phase_weight.shape[0] >= WINOGRAD_MIN_CHANNELS if winograd is None else winograd
    wino = None
    if use_wino:
        g = _WINO_G.to(w.device)
        u = torch.einsum("ij,ocjk,lk->ilco", g, phase_weight, g)  # (4, 4, C, 4 O)
        wino = u.reshape(16, *u.shape[2:]).to(weight.dtype).contiguous()
    return PreparedUpsampleConv(
        weight=weight.detach(),
        phase_weight=phase_weight.to(weight.dtype).contiguous(),
        phase_bias=None if bias is None else bias.detach().repeat_interleave(4),
        winograd=wino,
        key=weights_key(weight, bias),
    )


def _bt(a0, a1, a2, a3, out: torch.Tensor) -> None:
    """Winograd input transform B^T along one axis: (d0 - d2, d1 + d2, d2 - d1, d1 - d3)."""
    torch.sub(a0, a2, out=out[0])
    torch.add(a1, a2, out=out[1])
    torch.sub(a2, a1, out=out[2])
    torch.sub(a1, a3, out=out[3])


def _winograd_valid(xp: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Valid 3x3 convolution of xp (B, C, H + 2, W + 2), H and W even, with transformed
    kernels u (16, C, O) -> (B, O, H, W)."""
    b, c, hp, wp = xp.shape
    h, w = hp - 2, wp - 2
    th, tw = h // 2, w // 2
    x = xp.permute(0, 2, 3, 1).contiguous()  # channels last: each tile row is C-contiguous
    rows = x.new_empty(4, b, th, wp, c)
    _bt(*(x[:, r : r + 2 * th - 1 : 2] for r in range(4)), rows)
    v = x.new_empty(4, 4, b, th, tw, c)
    for i in range(4):
        _bt(*(rows[i][:, :, k : k + 2 * tw - 1 : 2] for k in range(4)), v[i])
    o = u.shape[2]
    m = torch.bmm(v.view(16, b * th * tw, c), u).view(4, 4, b, th, tw, o)
    # output transform A^T = [[1, 1, 1, 0], [0, 1, -1, -1]] on rows, then on columns
    y = x.new_empty(b, th, 2, tw, 2, o)
    for ri, r in enumerate((m[0] + m[1] + m[2], m[1] - m[2] - m[3])):
        torch.add(r[0] + r[1], r[2], out=y[:, :, ri, :, 0])
        torch.sub(r[1] - r[2], r[3], out=y[:, :, ri, :, 1])
    y = y.view(b, h, w, o)
    if bias is not None:
        y = y.add_(bias)
    return y.permute(0, 3, 1, 2).contiguous()


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
    xp = F.pad(x, (1, 1, 1, 1), mode="replicate")
    if prepared.winograd is not None and x.shape[2] % 2 == 0 and x.shape[3] % 2 == 0:
        y = _winograd_valid(xp, prepared.winograd, prepared.phase_bias)
    else:
        y = F.conv2d(xp, prepared.phase_weight, prepared.phase_bias)
    out = F.pixel_shuffle(y, 2)
    _border_correction(x, prepared.weight, out)
    return out

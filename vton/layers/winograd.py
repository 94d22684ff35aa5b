"""Winograd F(m x m, 3x3) convolution (Lavin & Gray, CVPR 2016) for CPU inference.

A 3x3 convolution of an (m + 2) x (m + 2) input tile gives m x m outputs; Winograd's
minimal filtering computes them with (m + 2)^2 multiplications instead of 9 m^2, after
fixed linear transforms of the tile (B^T d B) and of the kernel (G g G^T), and one of the
products (A^T M A). Over a whole layer that is (m + 2)^2 batched matrix products of
(tiles, C) x (C, O). F(4x4) does 36 multiplications per 4x4 tile instead of 144, F(2x2)
16 per 2x2 tile instead of 36; F(4x4) is 1.7-2.7x oneDNN's direct convolution on an AVX2
CPU core for the TOM's deep layers (many channels, few pixels), and loses where
channels are few. The transforms add float32 rounding of a few 1e-6 relative (the points
0, +-1, +-2 keep F(4x4)'s small); callers hold the networks to the reference at 1e-4.

Convention: a "valid" convolution of an already padded input xp (B, C, H + 2, W + 2),
H and W multiples of m -> (B, O, H, W); kernels from `winograd_kernels`.
"""

from __future__ import annotations

import torch

__all__ = [
    "cpu_float32_inference",
    "weights_key",
    "winograd_conv3x3_valid",
    "winograd_kernels",
    "winograd_tile",
]

# Winograd F(m x m, 3x3) transforms (Lavin & Gray), m = 2 and 4: input B^T, kernel G,
# output A^T; F(4x4) uses the points 0, +-1, +-2 and infinity.
_WINOGRAD = {
    2: {
        "BT": ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1)),
        "G": ((1, 0, 0), (1 / 2, 1 / 2, 1 / 2), (1 / 2, -1 / 2, 1 / 2), (0, 0, 1)),
        "AT": ((1, 1, 1, 0), (0, 1, -1, -1)),
    },
    4: {
        "BT": (
            (4, 0, -5, 0, 1, 0),
            (0, -4, -4, 1, 1, 0),
            (0, 4, -4, -1, 1, 0),
            (0, -2, -1, 2, 1, 0),
            (0, 2, -1, -2, 1, 0),
            (0, 4, 0, -5, 0, 1),
        ),
        "G": (
            (1 / 4, 0, 0),
            (-1 / 6, -1 / 6, -1 / 6),
            (-1 / 6, 1 / 6, -1 / 6),
            (1 / 24, 1 / 12, 1 / 6),
            (1 / 24, -1 / 12, 1 / 6),
            (0, 0, 1),
        ),
        "AT": ((1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1)),
    },
}


def cpu_float32_inference(x: torch.Tensor) -> bool:
    """Whether `x` is being run through a network for inference in float32 on the CPU (no
    autograd, no autocast): where the Winograd paths are used; training and CUDA take the
    layers as written."""
    return (
        not torch.is_grad_enabled()
        and x.device.type == "cpu"
        and x.dtype == torch.float32
        and not torch.is_autocast_enabled("cpu")
    )


def winograd_tile(h: int, w: int) -> int | None:
    """The largest tile (4, else 2) that divides an h x w output, or None."""
    return next((m for m in (4, 2) if h % m == 0 and w % m == 0), None)


def winograd_kernels(weight: torch.Tensor, m: int) -> torch.Tensor:
    """(O, C, 3, 3) kernels -> (t * t, C, O) transformed ones for F(m x m, 3x3), t = m + 2,
    computed in float64 and returned in the weight's dtype (rounded once)."""
    g = torch.tensor(_WINOGRAD[m]["G"], dtype=torch.float64, device=weight.device)
    u = torch.einsum("ij,ocjk,lk->ilco", g, weight.detach().double(), g)
    return u.reshape(-1, *u.shape[2:]).to(weight.dtype).contiguous()


def weights_key(weight: torch.Tensor, bias: torch.Tensor | None) -> tuple:
    """Changes whenever the layer's weights do (in-place updates bump `_version`, loading
    a state dict copies in place), so derived kernels are rebuilt then and only then."""
    return (
        weight.data_ptr(),
        weight._version,
        weight.device,
        None if bias is None else (bias.data_ptr(), bias._version),
    )


def _combine(parts: list[torch.Tensor], coefs: tuple[float, ...], out: torch.Tensor) -> None:
    """out = sum of coef * part, skipping zero coefficients (one row of a transform)."""
    first = True
    for part, coef in zip(parts, coefs, strict=True):
        if coef == 0:
            continue
        if first:
            if coef == 1:
                out.copy_(part)
            else:
                torch.mul(part, coef, out=out)
            first = False
        else:
            out.add_(part, alpha=coef)


def winograd_conv3x3_valid(
    xp: torch.Tensor, u: torch.Tensor, bias: torch.Tensor | None, m: int
) -> torch.Tensor:
    """Valid 3x3 convolution of xp (B, C, H + 2, W + 2), H and W multiples of m, as
    F(m x m, 3x3) with transformed kernels u (t * t, C, O) -> (B, O, H, W)."""
    bt, at = _WINOGRAD[m]["BT"], _WINOGRAD[m]["AT"]
    t = m + 2
    b, c, hp, wp = xp.shape
    h, w = hp - 2, wp - 2
    th, tw = h // m, w // m
    x = xp.permute(0, 2, 3, 1).contiguous()  # channels last: each tile row is C-contiguous
    # input transform B^T d B: along the rows of every tile, then along its columns
    rows_in = [x[:, r : r + m * (th - 1) + 1 : m] for r in range(t)]
    rows = x.new_empty(t, b, th, wp, c)
    for i in range(t):
        _combine(rows_in, bt[i], rows[i])
    v = x.new_empty(t, t, b, th, tw, c)
    for i in range(t):
        cols_in = [rows[i][:, :, k : k + m * (tw - 1) + 1 : m] for k in range(t)]
        for j in range(t):
            _combine(cols_in, bt[j], v[i, j])
    o = u.shape[2]
    prod = torch.bmm(v.view(t * t, b * th * tw, c), u).view(t, t, b, th, tw, o)
    # output transform A^T M A
    half = x.new_empty(m, t, b, th, tw, o)
    for i in range(m):
        _combine(list(prod), at[i], half[i])
    y = x.new_empty(b, th, m, tw, m, o)
    for i in range(m):
        for j in range(m):
            _combine(list(half[i]), at[j], y[:, :, i, :, j])
    y = y.view(b, h, w, o)
    if bias is not None:
        y = y.add_(bias)
    return y.permute(0, 3, 1, 2).contiguous()

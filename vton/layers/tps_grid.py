"""Thin-plate-spline sampling grid from the GMM's regressed control-point offsets, vectorised.

The GMM predicts theta (B, 2N) for an N = grid_size x grid_size regular lattice of control
points P_k in [-1, 1]^2: theta[:, :N] are x offsets and theta[:, N:] y offsets, so the target
points are Q_k = P_k + theta_k. The spline through (P_k -> Q_k), with kernel
U(d^2) = d^2 log d^2 (U(0) = 0), is evaluated at every output pixel; the result is a
`grid_sample` grid that says where in the cloth image each output pixel is read from.

The reference (CP-VTON's `TpsGridGen`) solves this per call by materialising several
(B, H, W, 1, N) tensors (about 47 ms per pair on a CPU core at 256x192). Everything except
theta is fixed, and the spline is linear in Q, so the whole map is one precomputed
(H*W, N) matrix M = [U(|p - P_k|^2), 1, x, y] @ L^-1[:, :N]:

    grid(p) = M[p] @ Q = p + M[p] @ theta        (M reproduces affine maps exactly)

Per call that is one (H*W, N) x (B, N, 2) matmul. M is computed once in float64 and kept
as a non-persistent buffer, so it follows `.to(device)` but is not part of the state dict
(the published checkpoints have no TPS keys, and strict loading must still work).

Control point order is the reference's: k = i * grid_size + j has x = a[i], y = a[j] with
a = linspace(-1, 1, grid_size) (x varies slowest). The checkpoint's regression weights are
tied to that order.

Convention: theta (B, 2N) float; grid (B, H, W, 2) float32 with (x, y) in [-1, 1] under
``align_corners=True`` (pixel centres of the first and last column at -1 and 1), the
torch 0.4 semantics the reference was trained with.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TpsGridGen", "tps_control_points", "tps_kernel", "identity_grid"]


def tps_control_points(grid_size: int = 5, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """(N, 2) control points (x, y) of the regular lattice, in the reference's order."""
    if grid_size < 2:
        raise ValueError(f"grid_size must be >= 2, got {grid_size}")
    a = torch.linspace(-1.0, 1.0, grid_size, dtype=torch.float64)
    px, py = torch.meshgrid(a, a, indexing="ij")  # x slowest, as the reference flattens
    return torch.stack([px.reshape(-1), py.reshape(-1)], dim=1).to(dtype)


def tps_kernel(d2: torch.Tensor) -> torch.Tensor:
    """U(d^2) = d^2 log d^2, with U(0) = 0 (its limit), elementwise."""
    safe = torch.where(d2 > 0, d2, torch.ones_like(d2))
    return d2 * torch.log(safe)


def identity_grid(out_h: int, out_w: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(H, W, 2) identity sampling grid (x, y) for ``align_corners=True``."""
    ys = torch.linspace(-1.0, 1.0, out_h, dtype=torch.float64)
    xs = torch.linspace(-1.0, 1.0, out_w, dtype=torch.float64)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], dim=-1).to(dtype)


def _tps_matrix(out_h: int, out_w: int, grid_size: int) -> torch.Tensor:
    """(H*W, N) float64 matrix M with grid = identity + M @ theta (see the module docstring)."""
    ctrl = tps_control_points(grid_size)  # (N, 2)
    n = ctrl.shape[0]
    system = torch.zeros(n + 3, n + 3, dtype=torch.float64)
    system[:n, :n] = tps_kernel((ctrl[:, None, :] - ctrl[None, :, :]).pow(2).sum(-1))
    system[:n, n] = 1.0
    system[:n, n + 1 :] = ctrl
    system[n, :n] = 1.0
    system[n + 1 :, :n] = ctrl.T
    inv_cols = torch.linalg.inv(system)[:, :n]  # (N + 3, N): maps Q to (weights, affine)
    pts = identity_grid(out_h, out_w, torch.float64).reshape(-1, 2)  # (H*W, 2)
    d2 = (pts[:, None, :] - ctrl[None, :, :]).pow(2).sum(-1)  # (H*W, N)
    basis = torch.cat([tps_kernel(d2), torch.ones(pts.shape[0], 1, dtype=pts.dtype), pts], 1)
    return basis @ inv_cols


class TpsGridGen(nn.Module):
    """theta (B, 2N) -> sampling grid (B, H, W, 2); no parameters, no state-dict entries.

    Always computed in float32, also under autocast or after `.half()`: a grid in bf16 would
    be off by up to a pixel at 192 px wide.
    """

    def __init__(self, out_h: int = 256, out_w: int = 192, grid_size: int = 5) -> None:
        super().__init__()
        if out_h < 2 or out_w < 2:
            raise ValueError(f"output size must be at least 2x2, got {out_h}x{out_w}")
        self.out_h, self.out_w, self.grid_size = out_h, out_w, grid_size
        self.num_points = grid_size * grid_size
        self.register_buffer(
            "base_grid", identity_grid(out_h, out_w).reshape(-1, 2), persistent=False
        )
        self.register_buffer(
            "tps_matrix", _tps_matrix(out_h, out_w, grid_size).float(), persistent=False
        )

    def _apply(self, fn, recurse: bool = True):
        # `.half()` / `.to(torch.bfloat16)` on a whole model would round these constants;
        # rebuild them in float32 on the new device instead (the grid is always fp32).
        super()._apply(fn, recurse)
        for name, make in (
            ("base_grid", lambda: identity_grid(self.out_h, self.out_w).reshape(-1, 2)),
            ("tps_matrix", lambda: _tps_matrix(self.out_h, self.out_w, self.grid_size).float()),
        ):
            buf = getattr(self, name)
            if buf.dtype != torch.float32 and buf.device.type != "meta":
                setattr(self, name, make().to(buf.device))
        return self

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        if theta.ndim != 2 or theta.shape[1] != 2 * self.num_points:
            raise ValueError(
                f"expected theta of shape (B, {2 * self.num_points}), got {tuple(theta.shape)}"
            )
        b = theta.shape[0]
        with torch.autocast(device_type=theta.device.type, enabled=False):
            offsets = theta.float().reshape(b, 2, self.num_points).transpose(1, 2)  # (B, N, 2)
            grid = torch.baddbmm(
                self.base_grid.expand(b, -1, -1),
                self.tps_matrix.expand(b, -1, -1),
                offsets,
            )
        return grid.view(b, self.out_h, self.out_w, 2)

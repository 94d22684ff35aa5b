"""Properties of the CP-VTON building blocks (vton.layers)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vton.layers import (
    FeatureExtraction,
    TpsGridGen,
    UnetSkipConnectionBlock,
    feature_correlation,
    feature_l2norm,
    identity_grid,
    tps_control_points,
    tps_kernel,
    warp_cloth,
    warp_mask,
)

H, W = 256, 192


def _unvectorised_tps(theta: torch.Tensor, out_h: int, out_w: int, grid_size: int):
    """Straightforward thin-plate spline in float64: per sample, solve the (N+3) system for
    the target points, then sum the N kernel terms and the affine part at every pixel."""
    ctrl = tps_control_points(grid_size)
    n = ctrl.shape[0]
    pts = identity_grid(out_h, out_w, torch.float64).reshape(-1, 2)
    out = []
    for t in theta.double():
        target = ctrl + torch.stack([t[:n], t[n:]], dim=1)
        system = torch.zeros(n + 3, n + 3, dtype=torch.float64)
        for i in range(n):
            for j in range(n):
                system[i, j] = tps_kernel(((ctrl[i] - ctrl[j]) ** 2).sum())
        system[:n, n] = 1
        system[:n, n + 1 :] = ctrl
        system[n, :n] = 1
        system[n + 1 :, :n] = ctrl.T
        rhs = torch.cat([target, torch.zeros(3, 2, dtype=torch.float64)])
        sol = torch.linalg.solve(system, rhs)  # (N + 3, 2): kernel weights, then affine
        mapped = sol[n] + pts @ sol[n + 1 :]
        for k in range(n):
            mapped = mapped + tps_kernel(((pts - ctrl[k]) ** 2).sum(1, keepdim=True)) * sol[k]
        out.append(mapped.view(out_h, out_w, 2))
    return torch.stack(out)


def test_identity_theta_gives_identity_grid_and_identity_warp():
    tps = TpsGridGen(H, W, 5)
    grid = tps(torch.zeros(3, 50))
    assert torch.allclose(grid, identity_grid(H, W).expand(3, -1, -1, -1), atol=1e-6)
    g = torch.Generator().manual_seed(1)
    cloth = torch.rand(3, 3, H, W, generator=g) * 2 - 1
    mask = (torch.rand(3, 1, H, W, generator=g) > 0.5).float()
    # align_corners=True: the identity grid hits pixel centres, so sampling returns the input
    assert (warp_cloth(cloth, grid) - cloth).abs().max() < 1e-4
    assert (warp_mask(mask, grid) - mask).abs().max() < 1e-4


def test_vectorised_tps_equals_unvectorised_computation():
    g = torch.Generator().manual_seed(2)
    theta = (torch.rand(2, 18, generator=g) - 0.5) * 0.6  # grid_size 3 keeps the loop quick
    ours = TpsGridGen(32, 24, grid_size=3)(theta)
    slow = _unvectorised_tps(theta, 32, 24, grid_size=3)
    assert (ours.double() - slow).abs().max() < 1e-6
    theta5 = (torch.rand(1, 50, generator=g) - 0.5) * 0.6
    ours5 = TpsGridGen(64, 48, grid_size=5)(theta5)
    assert (ours5.double() - _unvectorised_tps(theta5, 64, 48, 5)).abs().max() < 1e-6


def test_affine_offsets_give_that_affine_map_everywhere():
    """A TPS reproduces affine maps exactly: offsets that move every control point by one
    affine map move every pixel by it."""
    ctrl = tps_control_points(5, torch.float32)
    a = torch.tensor([[0.1, -0.05], [0.08, 0.12]])
    shift = torch.tensor([0.03, -0.02])
    offsets = ctrl @ a + shift  # (N, 2)
    theta = torch.cat([offsets[:, 0], offsets[:, 1]])[None]
    grid = TpsGridGen(H, W, 5)(theta)[0]
    base = identity_grid(H, W)
    assert (grid - (base + base @ a + shift)).abs().max() < 1e-5


def test_tps_has_no_state_dict_entries_and_computes_in_fp32_under_autocast():
    tps = TpsGridGen()
    assert tps.state_dict() == {}
    theta = (torch.rand(2, 50) - 0.5) * 0.4
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = tps(theta.bfloat16())
    assert low.dtype == torch.float32
    assert (low - tps(theta.bfloat16().float())).abs().max() == 0
    half = TpsGridGen().half()  # constants are rebuilt in fp32, not rounded to fp16
    assert half.tps_matrix.dtype == torch.float32
    assert (half(theta.half()) - tps(theta.half().float())).abs().max() == 0
    with pytest.raises(ValueError, match=r"\(B, 50\)"):
        tps(torch.zeros(2, 49))


def test_warp_padding_border_for_cloth_zeros_for_mask():
    cloth = torch.linspace(-1, 1, W).expand(1, 3, H, W).contiguous()
    mask = torch.ones(1, 1, H, W)
    far_right = identity_grid(H, W)[None].clone()
    far_right[..., 0] = 1.5  # every output pixel reads beyond the right edge
    assert torch.allclose(warp_cloth(cloth, far_right), torch.ones(1, 3, H, W))
    assert warp_mask(mask, far_right).abs().max() == 0
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        warp_cloth(mask, far_right)
    with pytest.raises(ValueError, match="grid"):
        warp_mask(mask, far_right[..., :1])


def test_correlation_order_is_column_major_over_a():
    g = torch.Generator().manual_seed(3)
    a = torch.randn(2, 5, 4, 3, generator=g)
    b = torch.randn(2, 5, 4, 3, generator=g)
    out = feature_correlation(a, b)
    assert out.shape == (2, 12, 4, 3) and out.is_contiguous()
    for ha in range(4):
        for wa in range(3):
            expected = (a[:, :, ha, wa, None, None] * b).sum(1)
            assert torch.allclose(out[:, wa * 4 + ha], expected, atol=1e-5)
    with pytest.raises(ValueError, match="same shape"):
        feature_correlation(a, b[:, :, :3])


def test_l2norm_gives_unit_vectors_over_channels():
    x = torch.randn(2, 7, 5, 4) * 3
    norms = feature_l2norm(x).pow(2).sum(1).sqrt()
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-5)
    assert feature_l2norm(torch.zeros(1, 3, 2, 2)).abs().max() == 0  # eps: no NaN


def test_feature_extraction_shapes_and_input_check():
    fe = FeatureExtraction(22).eval()
    assert fe(torch.randn(1, 22, 64, 48)).shape == (1, 512, 4, 3)
    with pytest.raises(ValueError, match=r"\(B, 22, H, W\)"):
        fe(torch.randn(1, 3, 64, 48))


def test_unet_skip_carries_activated_features():
    """The reference's in-place LeakyReLU makes the skip connection carry activated
    features; the checkpoints depend on it."""
    block = UnetSkipConnectionBlock(8, 16, innermost=True).eval()
    x = torch.randn(1, 8, 16, 12)
    before = x.clone()
    out = block(x)
    assert out.shape == (1, 16, 16, 12)
    assert torch.equal(out[:, :8], F.leaky_relu(before, 0.2))
    assert torch.equal(x, before)  # and, unlike the reference, the caller's tensor is intact

"""Upsample-then-convolve computed at the low resolution (or, for small inputs, by Winograd
at the high resolution) equals the layers as written."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vton.layers.upsample_conv import prepare_upsample_conv, upsample_conv3x3
from vton.models import create_model


def _reference(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    return F.conv2d(up, w, b, padding=1)


@pytest.mark.parametrize("winograd", [False, True])
@pytest.mark.parametrize(
    ("cin", "cout", "h", "w", "bias", "path"),
    [
        # path: the kernels a Winograd-enabled layer makes (tile; negative: high resolution)
        (8, 4, 6, 4, True, -4),  # small: upsampled, F(4x4) at 12x8
        (16, 16, 5, 3, False, -2),  # small and odd: F(2x2) at 10x6
        (3, 32, 2, 2, True, -4),
        (64, 16, 8, 4, False, -4),
        (24, 8, 12, 10, True, 2),  # low resolution, F(2x2): 10 is not a multiple of 4
        (24, 8, 12, 8, True, 4),  # low resolution, F(4x4)
        (8, 8, 9, 7, True, 0),  # low resolution, odd: the phase convolution runs directly
    ],
)
def test_equals_upsample_then_conv(cin, cout, h, w, bias, path, winograd):
    g = torch.Generator().manual_seed(cin * h + w)
    x = torch.randn(2, cin, h, w, generator=g)
    weight = torch.randn(cout, cin, 3, 3, generator=g) / (3 * cin**0.5)
    b = torch.randn(cout, generator=g) if bias else None
    prepared = prepare_upsample_conv(weight, b, winograd=winograd)
    ours, ref = upsample_conv3x3(x, prepared), _reference(x, weight, b)
    assert ours.shape == ref.shape == (2, cout, 2 * h, 2 * w)
    # float32 rounding of reordered sums only; a wrong border or phase is off by O(1)
    assert (ours - ref).abs().max().item() < 2e-5 * max(1.0, ref.abs().max().item())
    assert list(prepared._kernels) == [path if winograd else 0]  # only what ran


def test_tom_fast_path_matches_layers_as_written_and_follows_new_weights():
    torch.manual_seed(0)
    tom = create_model("tom_cpvton_plus").eval()
    x = torch.randn(2, 26, 256, 192)
    blocks = [m for m in tom.modules() if hasattr(m, "fast_upsample")]

    def run(fast: bool) -> torch.Tensor:
        for m in blocks:
            m.fast_upsample = fast
        with torch.inference_mode():
            return tom.forward_raw(x)

    fast, slow = run(True), run(False)
    assert blocks[0]._prepared is not None  # the fast path ran
    assert (fast - slow).abs().max().item() < 1e-4
    # loading other weights rebuilds the derived kernels (no stale cache)
    torch.manual_seed(1)
    tom.load_state_dict(create_model("tom_cpvton_plus").state_dict())
    assert (run(True) - run(False)).abs().max().item() < 1e-4
    assert (run(True) - fast).abs().max().item() > 1e-2
    # with autograd on (training) the layers run as written
    for m in blocks:
        m.fast_upsample, m._prepared = True, None
    tom.forward_raw(x[:1])
    assert all(m._prepared is None for m in blocks)


def test_gmm_parts_compose_to_forward():
    torch.manual_seed(0)
    gmm = create_model("gmm_cpvton_plus").eval()
    person, mask = torch.randn(2, 22, 256, 192), (torch.rand(2, 1, 256, 192) > 0.5).float()
    with torch.no_grad():
        grid, theta = gmm(person, mask)
        g2, t2 = gmm.match(gmm.person_features(person), gmm.cloth_features(mask))
    assert torch.equal(grid, g2) and torch.equal(theta, t2)

"""Winograd 3x3 convolution equals the direct one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from vton.layers.winograd import winograd_conv3x3_valid, winograd_kernels, winograd_tile


@pytest.mark.parametrize(("h", "w", "tile"), [(16, 12, 4), (6, 10, 2), (5, 4, None)])
def test_winograd_equals_direct_convolution(h, w, tile):
    assert winograd_tile(h, w) == tile
    if tile is None:
        return
    g = torch.Generator().manual_seed(h * w)
    x = torch.randn(2, 32, h + 2, w + 2, generator=g)
    weight, bias = torch.randn(24, 32, 3, 3, generator=g) / 17, torch.randn(24, generator=g)
    ours = winograd_conv3x3_valid(x, winograd_kernels(weight, tile), bias, tile)
    ref = F.conv2d(x, weight, bias)
    assert ours.shape == ref.shape
    assert (ours - ref).abs().max().item() < 2e-5 * ref.abs().max().item()

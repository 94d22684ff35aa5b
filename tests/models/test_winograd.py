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


def test_gmm_extractor_fast_path_matches_layers_as_written_and_follows_new_weights():
    from vton.layers import FeatureExtraction

    torch.manual_seed(0)
    net = FeatureExtraction(22).eval()
    x = torch.randn(2, 22, 256, 192)
    with torch.inference_mode():
        fast, slow = net(x), net.model(x)
    assert sorted(net._winograd) == [12, 15]  # the two 3x3 convolutions, F(4x4) at 16x12
    assert (fast - slow).abs().max().item() < 1e-4 * slow.abs().max().item()
    torch.manual_seed(1)
    net.load_state_dict(FeatureExtraction(22).state_dict())  # new weights: kernels rebuilt
    with torch.inference_mode():
        again, slow2 = net(x), net.model(x)
    assert (again - slow2).abs().max().item() < 1e-4 * slow2.abs().max().item()
    assert (again - fast).abs().max().item() > 1e-2
    net._winograd.clear()
    net(x[:1])  # autograd on (training): the layers as written, no kernels made
    assert not net._winograd

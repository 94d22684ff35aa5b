"""GMM and TOM behaviour beyond fidelity: input checks, composition, variants."""

from __future__ import annotations

import pytest
import torch

from vton.models import gmm_cpvton, gmm_cpvton_plus, tom_cpvton, tom_cpvton_plus

H, W = 256, 192


@pytest.fixture(scope="module")
def toms():
    torch.manual_seed(0)
    return tom_cpvton().eval(), tom_cpvton_plus().eval()


def test_tom_composition_is_cloth_times_mask_plus_rendered(toms):
    tom, tom_plus = toms
    g = torch.Generator().manual_seed(0)
    h = w = 128  # any multiple of 64 works; smaller keeps the test quick
    person = torch.rand(1, 22, h, w, generator=g) * 2 - 1
    cloth = torch.rand(1, 3, h, w, generator=g) * 2 - 1
    mask = (torch.rand(1, 1, h, w, generator=g) > 0.5).float()
    with torch.no_grad():
        for model, m in ((tom, None), (tom_plus, mask)):
            out = model(person, cloth, m)
            assert out.rendered.abs().max() <= 1 and out.mask.min() > 0 and out.mask.max() < 1
            expected = cloth * out.mask + out.rendered * (1 - out.mask)
            assert torch.allclose(out.tryon, expected)
    with torch.no_grad():
        raw = tom_plus.forward_raw(torch.cat([person, cloth, mask], 1))
    assert torch.allclose(out.rendered, torch.tanh(raw[:, :3]))
    assert torch.allclose(out.mask, torch.sigmoid(raw[:, 3:]))


def test_cpvton_tom_restricts_its_composition_to_a_given_warped_mask(toms):
    """As CP-VTON's train.py and test.py compose: m_selected = m * warped mask."""
    tom, _ = toms
    g = torch.Generator().manual_seed(3)
    person, cloth = torch.randn(1, 22, H, W, generator=g), torch.randn(1, 3, H, W, generator=g)
    mask = (torch.rand(1, 1, H, W, generator=g) > 0.5).float()
    with torch.no_grad():
        free, restricted = tom(person, cloth), tom(person, cloth, mask)
    assert torch.equal(free.mask, restricted.mask)  # the mask input is not a TOM channel
    m = restricted.mask * mask
    assert torch.allclose(restricted.tryon, cloth * m + restricted.rendered * (1 - m))
    assert not torch.allclose(restricted.tryon, free.tryon)


def test_tom_person_term_splits_the_first_convolution_exactly(toms):
    """A person's first-layer term computed once and reused gives the joint forward."""
    g = torch.Generator().manual_seed(5)
    person = torch.rand(2, 22, H, W, generator=g) * 2 - 1
    cloth = torch.rand(2, 3, H, W, generator=g) * 2 - 1
    mask = (torch.rand(2, 1, H, W, generator=g) > 0.5).float()
    for model in toms:
        with torch.inference_mode():
            joint = model(person, cloth, mask)
            term = model.person_term(person)
            split = model(None, cloth, mask, person_term=term)
            other = model(None, cloth, mask, person_term=term.flip(0))  # persons swapped
        assert term.shape == (2, 64, H // 2, W // 2)
        for a, b in zip(joint, split, strict=True):
            assert (a - b).abs().max().item() < 1e-4  # rounding, amplified by the norms
        assert (other.tryon - joint.tryon).abs().max().item() > 1e-2


def test_tom_input_checks(toms):
    tom, tom_plus = toms
    person, cloth = torch.zeros(1, 22, H, W), torch.zeros(1, 3, H, W)
    with pytest.raises(ValueError, match="needs the warped cloth mask"):
        tom_plus(person, cloth)
    with pytest.raises(ValueError, match="differ in batch or size"):
        tom(person, torch.zeros(2, 3, H, W))
    with pytest.raises(ValueError, match="multiples of 64"):
        tom.forward_raw(torch.zeros(1, 25, 100, 64))
    with pytest.raises(ValueError, match="exactly one of person and person_term"):
        tom(person, cloth, person_term=torch.zeros(1, 64, H // 2, W // 2))
    with pytest.raises(ValueError, match="exactly one of person and person_term"):
        tom(None, cloth)
    with pytest.raises(ValueError, match="does not fit"):
        tom(None, cloth, person_term=torch.zeros(1, 64, H, W))
    with pytest.raises(ValueError, match="person representation"):
        tom.person_term(torch.zeros(1, 3, H, W))


def test_gmm_input_checks_name_shapes():
    gmm, gmm_plus = gmm_cpvton().eval(), gmm_cpvton_plus().eval()
    person = torch.zeros(1, 22, H, W)
    with pytest.raises(ValueError, match=r"cloth \(B, 3, 256, 192\), got \(1, 1, 256, 192\)"):
        gmm(person, torch.zeros(1, 1, H, W))
    with pytest.raises(ValueError, match=r"expected cloth mask \(B, 1, 256, 192\)"):
        gmm_plus(person, torch.zeros(1, 3, H, W))
    with pytest.raises(ValueError, match=r"person representation \(B, 22, 256, 192\)"):
        gmm(torch.zeros(1, 22, 128, 96), torch.zeros(1, 3, H, W))
    with pytest.raises(ValueError, match="multiples of 64"):
        gmm_cpvton(input_size=(250, 192))


def test_gmm_is_batch_independent_and_channels_last_agrees():
    h, w = 128, 128  # a smaller GMM (its regression head is sized from input_size)
    gmm = gmm_cpvton_plus(input_size=(h, w)).eval()
    g = torch.Generator().manual_seed(1)
    person = torch.rand(2, 22, h, w, generator=g) * 2 - 1
    mask = (torch.rand(2, 1, h, w, generator=g) > 0.5).float()
    with torch.no_grad():
        grid, theta = gmm(person, mask)
        grid1, theta1 = gmm(person[1:], mask[1:])
        cl = gmm.to(memory_format=torch.channels_last)
        grid_cl, _ = cl(person.to(memory_format=torch.channels_last), mask)
    assert grid.shape == (2, h, w, 2) and theta.shape == (2, 50)
    assert theta.abs().max() < 1
    assert torch.allclose(theta[1:], theta1, atol=1e-5)
    assert torch.allclose(grid[1:], grid1, atol=1e-5)
    assert torch.allclose(grid, grid_cl, atol=1e-4)

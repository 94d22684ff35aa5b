"""The neural renderer end to end on random-weight checkpoints (no published weights are
downloaded): batching, failures in place, variant checks, digests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vton.cloth.landmarks import GarmentLandmarks
from vton.cloth.prep import ClothAsset
from vton.errors import CheckpointError
from vton.models import create_model
from vton.person.prep import PersonAsset
from vton.render.base import RenderOutput, RenderRequest
from vton.render.neural import NeuralRenderer


@pytest.fixture(scope="module")
def ckpts(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ckpt")
    torch.manual_seed(0)
    out = {}
    for name in ("gmm_cpvton_plus", "tom_cpvton_plus", "tom_cpvton"):
        out[name] = d / f"{name}.pth"
        torch.save(create_model(name).state_dict(), out[name])
    return out


@pytest.fixture(scope="module")
def renderer(ckpts) -> NeuralRenderer:
    return NeuralRenderer(ckpts["gmm_cpvton_plus"], ckpts["tom_cpvton_plus"], device="cpu")


def _person(seed: int, h: int = 300, w: int = 200, parse: bool = True) -> PersonAsset:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    mask = np.zeros((h, w), np.uint8)
    mask[40:280, 50:150] = 255
    labels = np.zeros((h, w), np.uint8)
    labels[40:80, 80:120] = 13  # face
    labels[80:200, 50:150] = 5  # upper clothes
    labels[200:280, 60:140] = 9  # pants
    kp = np.zeros((18, 3), np.float32)
    kp[:, 0] = rng.uniform(60, 140, 18)
    kp[:, 1] = rng.uniform(50, 270, 18)
    kp[:, 2] = 0.9
    return PersonAsset(image, mask, kp, {}, labels if parse else None)


def _cloth(seed: int) -> ClothAsset:
    rng = np.random.default_rng(100 + seed)
    image = np.full((1024, 768, 3), 255, np.uint8)
    mask = np.zeros((1024, 768), np.uint8)
    mask[200:900, 150:620] = 255
    image[mask > 0] = rng.integers(0, 256, 3, dtype=np.uint8)
    lm = GarmentLandmarks((384, 200), (150, 220), (620, 220), (160, 900), (610, 900), 768, 1024)
    return ClothAsset(image, mask, lm, {})


def _requests(n: int, bad: set[int] = frozenset()) -> list[RenderRequest]:
    return [RenderRequest(f"pair-{i}", _cloth(i), _person(i, parse=i not in bad)) for i in range(n)]


@pytest.mark.slow  # about 4 s of GMM + TOM on two CPU cores, more under load
def test_renders_batches_at_photo_size_and_fails_pairs_in_place(renderer):
    r = renderer
    assert r.name == "cpvton_plus" and r.model_digest.startswith("neural:")
    out = r.render_batch(_requests(3, bad={1}))
    assert isinstance(out[1], ValueError) and "label map" in str(out[1])
    for o in (out[0], out[2]):
        assert isinstance(o, RenderOutput)
        assert o.tryon.shape == (300, 200, 3) and o.tryon.dtype == np.uint8
        assert o.warped_cloth.shape == (300, 200, 3)
        assert o.composition_mask.shape == (300, 200) and o.composition_mask.dtype == np.uint8
    # batch independence: one pair at a time gives the same images
    compute_batch, r.compute_batch = r.compute_batch, 1
    try:
        alone = r.render_batch(_requests(1))[0]
    finally:
        r.compute_batch = compute_batch
    assert np.abs(alone.tryon.astype(int) - out[0].tryon.astype(int)).max() <= 1
    assert np.abs(alone.warped_cloth.astype(int) - out[0].warped_cloth.astype(int)).max() <= 1


def test_checkpoint_problems_fail_at_construction(ckpts, tmp_path):
    with pytest.raises(CheckpointError, match=r"is cpvton_plus but TOM .* is cpvton"):
        NeuralRenderer(ckpts["gmm_cpvton_plus"], ckpts["tom_cpvton"], device="cpu")
    with pytest.raises(CheckpointError, match="expected a GMM one"):
        NeuralRenderer(ckpts["tom_cpvton_plus"], ckpts["tom_cpvton_plus"], device="cpu")
    with pytest.raises(CheckpointError, match="not found"):
        NeuralRenderer(tmp_path / "missing.pth", ckpts["tom_cpvton_plus"], device="cpu")


def test_model_digest_follows_the_weights(renderer, ckpts, tmp_path):
    copy = tmp_path / "same.pth"
    copy.write_bytes(ckpts["tom_cpvton_plus"].read_bytes())
    same = NeuralRenderer(ckpts["gmm_cpvton_plus"], copy, device="cpu")
    other = tmp_path / "other.pth"
    torch.manual_seed(1)
    torch.save(create_model("tom_cpvton_plus").state_dict(), other)
    changed = NeuralRenderer(ckpts["gmm_cpvton_plus"], other, device="cpu")
    assert renderer.model_digest == same.model_digest != changed.model_digest


@pytest.mark.slow  # 4 pairs through GMM + TOM twice
def test_per_asset_features_change_nothing_and_are_computed_once(ckpts):
    r = NeuralRenderer(ckpts["gmm_cpvton_plus"], ckpts["tom_cpvton_plus"], device="cpu")
    cloths, persons = [_cloth(0), _cloth(1)], [_person(0), _person(1)]
    grid = [(c, p) for c in range(2) for p in range(2)]  # 2 garments x 2 persons
    plain = r.render_batch([RenderRequest(f"{c}{p}", cloths[c], persons[p]) for c, p in grid])
    keyed = [RenderRequest(f"{c}{p}", cloths[c], persons[p], f"c{c}", f"p{p}") for c, p in grid]
    cached = r.render_batch(keyed)
    # inputs made once per asset: 2 persons, 2 garments
    assert len(r._person_inputs_cache) == 2 and len(r._cloth_inputs_cache) == 2
    # 2 person and 2 garment feature sets computed (not 4 of each), none reused yet
    assert (r._person_features.misses, r._cloth_features.misses) == (4 + 2, 4 + 2)
    assert r._person_terms.misses == 4 + 2  # the TOM's person terms likewise
    for a, b in zip(plain, cached, strict=True):
        assert np.array_equal(a.tryon, b.tryon) and np.array_equal(a.warped_cloth, b.warped_cloth)
    # a second batch of the same assets computes no features at all
    again = r.render_batch(keyed[::-1])
    assert (r._person_features.misses, r._cloth_features.misses) == (6, 6)
    assert (r._person_features.hits, r._cloth_features.hits) == (2, 2)
    assert (r._person_terms.misses, r._person_terms.hits) == (6, 2)
    assert np.array_equal(again[0].tryon, cached[-1].tryon)


def test_feature_cache_stays_bounded_and_keeps_what_it_returns():
    from vton.render.neural import _FeatureCache

    cache, calls = _FeatureCache(limit=2), []

    def compute(x: torch.Tensor) -> torch.Tensor:
        calls.append(len(x))
        return x * 10

    x = torch.arange(4.0).reshape(4, 1)
    out = cache.features(["a", "b", "a", None], list(x), compute)
    assert out.flatten().tolist() == [0, 10, 0, 30] and calls == [3]
    out = cache.features(["c", "d", "b"], list(torch.tensor([[5.0], [6.0], [7.0]])), compute)
    # b was cached (its first value stays); c and d computed; a and b evicted down to 2
    assert out.flatten().tolist() == [50, 60, 10] and calls == [3, 2]
    assert cache.items.keys() == ["c", "d"]

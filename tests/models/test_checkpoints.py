"""Loading CP-VTON / CP-VTON+ checkpoints: strict, weights-only, variant detection, and one
clear `CheckpointError` for every kind of bad file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from vton.errors import CheckpointError
from vton.models import (
    CHECKPOINTS,
    CpVtonGmm,
    CpVtonTom,
    create_model,
    detect_checkpoint,
    gmm_cpvton,
    list_models,
    load_model,
    model_digest,
    read_state_dict,
    tom_cpvton_plus,
)

EXPECTED = {
    "gmm_cpvton": (CpVtonGmm, 104),
    "gmm_cpvton_plus": (CpVtonGmm, 104),
    "tom_cpvton": (CpVtonTom, 24),
    "tom_cpvton_plus": (CpVtonTom, 24),
}


@pytest.fixture(scope="module")
def models() -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    return {name: create_model(name) for name in EXPECTED}


def _save(path: Path, state_dict: dict, **kwargs) -> Path:
    torch.save(state_dict, path, **kwargs)
    return path


@pytest.mark.parametrize("name", list(EXPECTED))
def test_round_trip_detects_variant_and_loads_strictly(tmp_path, models, name):
    model = models[name]
    path = _save(tmp_path / f"{name}.pth", model.state_dict())
    loaded = load_model(path)
    cls, n_keys = EXPECTED[name]
    assert type(loaded) is cls and len(loaded.state_dict()) == n_keys
    assert loaded.pretrained_cfg.name == name and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key


def test_registry_entries_describe_each_checkpoint():
    assert set(CHECKPOINTS) == set(list_models()) == set(EXPECTED)
    for cfg in CHECKPOINTS.values():
        assert cfg.input_size == (256, 192)
        assert cfg.mean == cfg.std == (0.5, 0.5, 0.5)  # images in [-1, 1]
        assert cfg.license.startswith("MIT") and cfg.origin_repo.startswith("https://github.com/")
        assert cfg.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", cfg.sha256)
        assert cfg.name.startswith(cfg.kind) and cfg.name.endswith(cfg.variant)


def test_dataparallel_prefix_legacy_format_and_missing_bn_counters_load(tmp_path, models):
    """As published: saved from nn.DataParallel, in torch 0.4's legacy format, without the
    num_batches_tracked entries torch 0.4.1 added."""
    sd = {
        f"module.{k}": v
        for k, v in models["gmm_cpvton_plus"].state_dict().items()
        if not k.endswith("num_batches_tracked")
    }
    path = _save(tmp_path / "gmm_final.pth", sd, _use_new_zipfile_serialization=False)
    loaded = load_model(path, kind="gmm", variant="cpvton_plus")
    w = "extractionB.model.0.weight"
    assert torch.equal(loaded.state_dict()[w], models["gmm_cpvton_plus"].state_dict()[w])


def test_wrong_shape_names_key_and_both_shapes(tmp_path, models):
    sd = dict(models["gmm_cpvton"].state_dict())
    sd["regression.linear.weight"] = torch.zeros(50, 700)
    path = _save(tmp_path / "bad.pth", sd)
    with pytest.raises(CheckpointError) as err:
        load_model(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "regression.linear.weight: checkpoint (50, 700) vs model (50, 768)" in msg


def test_variant_mismatch_through_a_factory_names_the_key(tmp_path, models):
    path = _save(tmp_path / "plus.pth", models["gmm_cpvton_plus"].state_dict())
    with pytest.raises(
        CheckpointError,
        match=re.escape(
            "extractionB.model.0.weight: checkpoint (64, 1, 4, 4) vs model (64, 3, 4, 4)"
        ),
    ):
        gmm_cpvton(checkpoint_path=path)
    tom = _save(tmp_path / "tom.pth", models["tom_cpvton"].state_dict())
    with pytest.raises(CheckpointError, match=r"\(64, 25, 4, 4\) vs model \(64, 26, 4, 4\)"):
        tom_cpvton_plus(checkpoint_path=tom)


def test_missing_and_unexpected_keys_are_listed(tmp_path, models):
    sd = dict(models["tom_cpvton"].state_dict())
    del sd["model.model.4.bias"]
    sd["model.extra.weight"] = torch.zeros(1)
    with pytest.raises(
        CheckpointError,
        match=r"missing keys: model\.model\.4\.bias.*"
        r"unexpected keys: model\.extra\.weight",
    ):
        load_model(_save(tmp_path / "t.pth", sd))


def test_kind_and_variant_checks(tmp_path, models):
    tom = _save(tmp_path / "tom_final.pth", models["tom_cpvton_plus"].state_dict())
    with pytest.raises(CheckpointError, match=r"is a TOM checkpoint .* expected a GMM one"):
        load_model(tom, kind="gmm")
    with pytest.raises(CheckpointError, match=r"expected cpvton$"):
        load_model(tom, variant="cpvton")


def test_detects_variant_from_shapes(models):
    for name, model in models.items():
        assert detect_checkpoint(model.state_dict()).name == name
    odd = dict(models["gmm_cpvton"].state_dict())
    odd["extractionB.model.0.weight"] = torch.zeros(64, 2, 4, 4)
    with pytest.raises(CheckpointError, match=r"unknown CP-VTON variant.*\(64, 2, 4, 4\)"):
        detect_checkpoint(odd)
    with pytest.raises(CheckpointError, match="not a CP-VTON / CP-VTON\\+ GMM or TOM"):
        detect_checkpoint({"fc.weight": torch.zeros(2, 2)}, source="resnet.pth")


def test_full_pickled_model_is_refused(tmp_path):
    path = tmp_path / "whole_model.pth"
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), path)
    with pytest.raises(
        CheckpointError, match=r"pickled Python objects \(torch\.nn\..*Sequential; .*state_dict\(\)"
    ):
        load_model(path)


@pytest.mark.parametrize(
    "content, match",
    [
        (b"not a checkpoint\njust text\n", "not a PyTorch checkpoint"),
        (b"", "not a readable PyTorch checkpoint"),
    ],
)
def test_foreign_files_are_refused(tmp_path, content, match):
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=match) as err:
        read_state_dict(path)
    assert str(path) in str(err.value)


def test_truncated_and_non_state_dict_files_are_refused(tmp_path, models):
    good = _save(tmp_path / "good.pth", models["tom_cpvton"].state_dict())
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_model(cut)
    listed = _save(tmp_path / "list.pth", [torch.zeros(2)])
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        load_model(listed)
    mixed = _save(tmp_path / "mixed.pth", {"epoch": 3, "w": torch.zeros(1)})
    with pytest.raises(CheckpointError, match="entry 'epoch' is a int"):
        load_model(mixed)


def test_missing_path_names_the_path(tmp_path):
    missing = tmp_path / "nowhere" / "gmm_final.pth"
    with pytest.raises(CheckpointError, match=re.escape(f"checkpoint not found: {missing}")):
        load_model(missing)
    with pytest.raises(CheckpointError, match="not a file"):
        load_model(tmp_path)


def test_wrapped_state_dict_is_unwrapped(tmp_path, models):
    sd = models["tom_cpvton"].state_dict()
    path = _save(tmp_path / "wrapped.pth", {"state_dict": sd})
    assert set(read_state_dict(path)) == set(sd)


def test_model_digest_is_short_stable_and_content_addressed(tmp_path):
    a = _save(tmp_path / "a.pth", {"w": torch.zeros(3)})
    b = _save(tmp_path / "b.pth", {"w": torch.ones(3)})
    assert re.fullmatch(r"[0-9a-f]{16}", model_digest(a))
    assert model_digest(a) == model_digest(a) != model_digest(b)
    with pytest.raises(CheckpointError):
        model_digest(tmp_path / "missing.pth")

"""The rembg masker: one clear error for each missing piece, never a download; a model file
anywhere on disk works (here a tiny hand-written ONNX network)."""

from __future__ import annotations

import builtins
import hashlib
import importlib.util
import os

import numpy as np
import pytest

from tests.cloth.onnx_tiny import tiny_u2net_like_model
from tests.conftest import garment_spec
from vton.cloth.masking import MaskerConfigError, RembgMasker, make_masker
from vton.synthetic_garments import render_garment


@pytest.fixture
def tiny_model(tmp_path):
    path = tmp_path / "models" / "tiny-u2net.onnx"  # not under $REMBG_HOME / $U2NET_HOME
    path.parent.mkdir()
    path.write_bytes(tiny_u2net_like_model())
    return path


@pytest.fixture
def no_download(monkeypatch):
    """Any attempt to fetch a model fails the test."""
    import pooch

    def boom(*args, **kwargs):
        raise AssertionError("rembg tried to download a model")

    monkeypatch.setattr(pooch, "retrieve", boom)


def test_custom_model_anywhere_masks_a_garment(tiny_model, no_download):
    env = dict(os.environ)
    masker = make_masker(f"rembg:{tiny_model}")
    g = render_garment(garment_spec("g", "tee", "plain", (30, 60, 140)))
    r = masker.segment(g.image, None, "g")
    a, b = r.mask > 0, g.mask > 0
    assert (a & b).sum() / (a | b).sum() > 0.95
    assert 0.0 <= r.confidence <= 1.0
    assert dict(os.environ) == env  # no REMBG_HOME/U2NET_HOME fiddling
    sha = hashlib.sha256(tiny_model.read_bytes()).hexdigest()
    assert masker.id == f"rembg-u2net-{sha[:12]}"


def test_architecture_in_the_name_and_from_the_file_stem(tiny_model, tmp_path):
    assert make_masker(f"rembg:u2netp:{tiny_model}").id.startswith("rembg-u2netp-")
    named = tmp_path / "u2net_cloth_seg.onnx"
    named.write_bytes(tiny_model.read_bytes())
    assert make_masker(f"rembg:{named}").architecture == "u2net_cloth_seg"


def test_missing_model_file_is_one_clear_error(tmp_path, no_download):
    missing = tmp_path / "nowhere" / "u2net.onnx"
    with pytest.raises(MaskerConfigError, match=r"model file .*u2net\.onnx does not exist"):
        make_masker(f"rembg:{missing}")


def test_missing_onnxruntime_is_one_clear_error(tiny_model, monkeypatch):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "onnxruntime" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MaskerConfigError, match="'onnxruntime'"):
        RembgMasker(str(tiny_model))


def test_rembg_exiting_on_import_becomes_an_error(tiny_model, monkeypatch):
    # `import rembg` calls sys.exit(1) when it cannot load onnxruntime.
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("rembg"):
            raise SystemExit(1)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(MaskerConfigError, match="cannot import rembg"):
        RembgMasker(str(tiny_model))


def test_unknown_architecture_and_corrupt_model(tiny_model, tmp_path, no_download):
    with pytest.raises(MaskerConfigError, match="unknown architecture"):
        RembgMasker(str(tiny_model), "not-a-net")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not an onnx model")
    masker = RembgMasker(str(junk))  # the file exists; it is read on first use
    with pytest.raises(MaskerConfigError, match="cannot load"):
        masker.mask(np.zeros((32, 32, 3), np.uint8), None, "g")


def test_masker_pickles_without_its_session(tiny_model):
    import pickle

    masker = RembgMasker(str(tiny_model))
    masker.mask(render_garment(garment_spec("g")).image, None, "g")  # session now open
    clone = pickle.loads(pickle.dumps(masker))
    assert clone.id == masker.id and clone._session is None


def test_spec_syntax_errors_name_the_problem(tiny_model):
    with pytest.raises(MaskerConfigError, match="needs a model file"):
        make_masker("rembg:")
    with pytest.raises(MaskerConfigError, match="unknown architecture 'u3net'"):
        make_masker(f"rembg:u3net:{tiny_model}")
    with pytest.raises(MaskerConfigError, match="unknown masker"):
        make_masker("grabcut")


def test_id_changes_with_the_model_file(tiny_model, tmp_path):
    other = tmp_path / "other.onnx"
    other.write_bytes(tiny_model.read_bytes() + b"\x00")  # same network, different bytes
    a, b = make_masker(f"rembg:{tiny_model}"), make_masker(f"rembg:{other}")
    assert a.id != b.id and a.id.startswith("rembg-u2net-") and b.id.startswith("rembg-u2net-")
    assert make_masker(f" rembg:{tiny_model} ").id == a.id  # stable, whitespace-insensitive

"""The prep tasks' per-process masker / classifier / parser: built once while the
configured files are unchanged, built afresh (new digest) when a file is replaced."""

from __future__ import annotations

import os

from tasks.prep import _files_named, cloth_masker, garment_classifier, person_parser
from tests.cloth.onnx_tiny import tiny_u2net_like_model


def test_classical_and_shipped_models_are_built_once_per_process():
    assert cloth_masker("classical") is cloth_masker("classical")
    assert garment_classifier(None) is garment_classifier(None)
    assert garment_classifier("silhouette") is garment_classifier("silhouette")
    assert person_parser(None) is person_parser(None)


def test_a_replaced_model_file_is_loaded_afresh(tmp_path):
    path = tmp_path / "u2net.onnx"
    path.write_bytes(tiny_u2net_like_model())
    spec = f"rembg:u2net:{path}"
    first = cloth_masker(spec)
    assert cloth_masker(spec) is first  # hashed and opened once, not per chunk
    # another model at the same path (as a nightly deployment of a new model would do)
    path.write_bytes(tiny_u2net_like_model(size=288))
    os.utime(path, ns=(1, 1))  # an mtime of its own even on coarse-clock filesystems
    second = cloth_masker(spec)
    assert second is not first and second.id != first.id
    assert second.id == cloth_masker(f"rembg:{path}").id  # same file, other spelling


def test_files_named_by_a_setting(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"x")
    stamps = _files_named(f"rembg:u2net:{model}")
    assert [s[0] for s in stamps] == [str(model)]
    assert _files_named("classical") == _files_named(None) == ()

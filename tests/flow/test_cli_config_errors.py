"""A configuration error reads as one line (`vton run: ...`), exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _vton(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "flows.cli", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def _last_line(stderr: str) -> str:
    # Prefect's own temporary-server lines ("... | INFO | prefect - ...") may follow.
    lines = [ln for ln in stderr.strip().splitlines() if "| prefect" not in ln]
    return lines[-1]


@pytest.mark.slow
def test_bad_checkpoint_is_one_line_without_traceback(tmp_path: Path) -> None:
    ck = tmp_path / "gmm.txt"
    ck.write_text("not a checkpoint\n")
    out = _vton(
        "run", "--store", str(tmp_path / "store"), "--renderer", "cpvton",
        "--gmm-checkpoint", str(ck), "--tom-checkpoint", str(ck),
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    last = _last_line(out.stderr)
    assert last.startswith("vton run: ") and "gmm.txt" in last


@pytest.mark.slow
@pytest.mark.parametrize(
    ("option", "value", "prefix"),
    [
        ("--masker", "rembg:/nonexistent.onnx", "vton run: masker rembg: "),
        ("--human-parser", "/nonexistent.onnx", "vton run: human parser "),
    ],
)
def test_missing_model_is_one_line_without_traceback(
    tmp_path: Path, option: str, value: str, prefix: str
) -> None:
    # Found inside the flow (Prefect logs it from both flows): the filter must hide both.
    out = _vton("run", "--store", str(tmp_path / "store"), option, value)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    last = _last_line(out.stderr)
    assert last.startswith(prefix) and "/nonexistent.onnx" in last
    assert not (tmp_path / "store" / "runs").exists()  # failed before any work


@pytest.mark.slow
def test_unknown_store_protocol_is_one_line_and_debug_shows_traceback() -> None:
    out = _vton("run", "--store", "nosuch://x")
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert _last_line(out.stderr) == "vton run: store nosuch://x: Protocol not known: nosuch"
    debug = _vton("--debug", "run", "--store", "nosuch://x")
    assert debug.returncode == 2
    assert "Traceback" in debug.stderr and "StoreConfigError" in debug.stderr

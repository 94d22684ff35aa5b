"""Resumable training checkpoints and final weights, in a `vton.storage.Store`.

Layout under the training output store::

    checkpoints/step_00005000.pt   resumable state (below), one per `save_every` steps
    checkpoints/latest.json        {"step": 5000, "key": "checkpoints/step_00005000.pt"}
    history.json                   logged losses so far
    gmm_final.pth / tom_final.pth  the module's plain state dict (the references' format)
    gmm_final.json / tom_final.json  what made it (settings, steps, perceptual term...)

Every file is written whole (`Store.write_bytes`: temporary file and rename, or one PUT), and
`latest.json` only after the checkpoint it names, so a run killed at any moment leaves
either the previous or the new checkpoint, never a torn one.

A resumable state is a dict that `torch.load(weights_only=True)` reads back (tensors,
numbers, strings, lists, dicts only): ``model``, ``optimizer``, ``scheduler``, ``scaler``
(fp16) state dicts, ``rng`` (torch CPU and CUDA, NumPy and Python generator states),
``step`` (optimiser steps done, which also fixes the data order position, see
`vton.train.dataset.batch_indices`), ``history`` and ``metadata``.

The final weights are exactly `module.state_dict()` on the CPU (no ``module.`` prefix, no
wrapper), which `torch.load` + `load_state_dict(strict=True)` in the reference code, and
`vton.models.load_model` here, both accept.
"""

from __future__ import annotations

import io
import json
import random
from typing import Any

import numpy as np
import torch
from torch import nn

from vton.storage import Store

__all__ = [
    "LATEST_KEY",
    "checkpoint_key",
    "capture_rng_state",
    "restore_rng_state",
    "save_state",
    "load_latest_state",
    "save_final_weights",
    "to_bytes",
    "from_bytes",
]

CHECKPOINT_DIR = "checkpoints"
LATEST_KEY = f"{CHECKPOINT_DIR}/latest.json"
STATE_FORMAT = "vton-train-state/1"


def checkpoint_key(step: int) -> str:
    return f"{CHECKPOINT_DIR}/step_{step:08d}.pt"


def to_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def from_bytes(data: bytes, source: str) -> Any:
    """`torch.load(weights_only=True)` of bytes; ValueError naming `source` if unreadable."""
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{source}: not a readable training checkpoint ({exc})") from None


def capture_rng_state() -> dict[str, Any]:
    """Every generator a training step could draw from, as weights-only-loadable values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": py_version, "state": list(py_state), "gauss": py_gauss},
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Undo `capture_rng_state` (CUDA states only where as many devices are visible)."""
    torch.set_rng_state(state["torch"])
    cuda = state.get("cuda") or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    n = state["numpy"]
    np.random.set_state(
        (n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
         n["cached_gaussian"])
    )  # fmt: skip
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss"]))


def save_state(store: Store, state: dict[str, Any], keep: int = 3) -> str:
    """Write a resumable `state` (with ``step``), point `latest.json` at it, keep the newest
    `keep` checkpoints; returns the checkpoint's URI."""
    step = int(state["step"])
    key = checkpoint_key(step)
    uri = store.write_bytes(key, to_bytes({**state, "format": STATE_FORMAT}))
    store.write_text(LATEST_KEY, json.dumps({"step": step, "key": key}))
    if state.get("history") is not None:
        store.write_text("history.json", json.dumps(state["history"]))
    old = sorted(k for k in store.list_keys(CHECKPOINT_DIR) if k.endswith(".pt") and k != key)
    for k in old[: max(0, len(old) - (keep - 1))]:
        store.delete(k)
    return uri


def load_latest_state(store: Store) -> dict[str, Any] | None:
    """The newest resumable state under `store`, or None when there is none."""
    if not store.exists(LATEST_KEY):
        return None
    latest = json.loads(store.read_text(LATEST_KEY))
    state = from_bytes(store.read_bytes(latest["key"]), store.uri(latest["key"]))
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise ValueError(f"{store.uri(latest['key'])}: not a {STATE_FORMAT} checkpoint")
    return state


def save_final_weights(store: Store, name: str, model: nn.Module, metadata: dict[str, Any]) -> str:
    """Write `model`'s plain CPU state dict as `<name>.pth` and `metadata` as `<name>.json`;
    returns the weights' URI."""
    sd = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}
    uri = store.write_bytes(f"{name}.pth", to_bytes(sd))
    store.write_text(f"{name}.json", json.dumps(metadata, indent=1, default=str))
    return uri

"""Deterministic weights and inputs for the CP-VTON fidelity goldens, shared by
`make_golden.py` (which runs the reference code) and `test_cpvton_fidelity.py` (which runs
ours).

Weight recipe, a function of each state-dict key and shape only (so both sides build the
same tensors without sharing a model class): for each key in sorted order, a
`torch.Generator` seeded with the first 8 bytes (little-endian, top bit cleared) of
sha256(key) draws a float32 standard normal tensor z (`torch.randn`) of the key's shape, then

- ``*.weight`` with ndim >= 2 (conv, linear): z * gain / sqrt(fan_in), gain sqrt(2) (He), except
  ``regression.linear.weight``: gain 0.5, so that theta stays in a realistic warp range;
- BatchNorm ``*.weight`` (ndim 1): 1 + 0.1 z; any ``*.bias``: 0.1 z;
- ``*.running_mean``: 0.1 z; ``*.running_var``: 0.75 + 0.5 * sigmoid(z) (in [0.75, 1.25]);
- ``*.num_batches_tracked``: 0.

Inputs (batch 2, 256x192, one generator seeded with `INPUT_SEED` + a per-variant offset):
smooth random fields (bicubic upsampling of 8x6 noise, tanh) for the body shape and head
channels, 18 pose maps at -1 with 11x11 squares of +1 (as CP-VTON draws them), smooth cloth
colours with a sharp-edged garment silhouette (border pixels are what the "border" padding
and the mask's "zeros" padding disagree about), and a {0, 1} cloth mask of that silhouette.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "HEIGHT",
    "WIDTH",
    "SAMPLES",
    "key_seed",
    "deterministic_state_dict",
    "make_inputs",
    "sample_indices",
    "summarise",
]

HEIGHT, WIDTH = 256, 192
BATCH = 2
INPUT_SEED = 20240905
SAMPLES = 4096
VARIANT_OFFSET = {"cpvton": 0, "cpvton_plus": 1}


def key_seed(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little") & (2**63 - 1)


def _init(key: str, shape: tuple[int, ...]) -> torch.Tensor:
    if key.endswith("num_batches_tracked"):
        return torch.zeros(shape, dtype=torch.long)
    g = torch.Generator().manual_seed(key_seed(key))
    z = torch.randn(shape, generator=g)
    if key.endswith(".weight") and len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        gain = 0.5 if key.endswith("regression.linear.weight") else math.sqrt(2.0)
        out = z * gain / math.sqrt(fan_in)
    elif key.endswith(".weight"):
        out = 1.0 + 0.1 * z
    elif key.endswith(".bias") or key.endswith(".running_mean"):
        out = 0.1 * z
    elif key.endswith(".running_var"):
        out = 0.75 + 0.5 * torch.sigmoid(z)
    else:
        raise ValueError(f"no recipe for state-dict key {key!r}")
    return out


def deterministic_state_dict(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """{key: shape} -> {key: tensor} by the recipe in the module docstring."""
    return {key: _init(key, tuple(shapes[key])) for key in sorted(shapes)}


def _smooth(g: torch.Generator, b: int, c: int) -> torch.Tensor:
    noise = torch.randn(b, c, 8, 6, generator=g)
    up = F.interpolate(noise, size=(HEIGHT, WIDTH), mode="bicubic", align_corners=False)
    return torch.tanh(up)


def _silhouette(g: torch.Generator, b: int) -> torch.Tensor:
    """(B, 1, H, W) {0, 1}: an ellipse-ish garment blob with a random centre and radii."""
    ys = torch.linspace(-1, 1, HEIGHT)[:, None]
    xs = torch.linspace(-1, 1, WIDTH)[None, :]
    masks = []
    for _ in range(b):
        cx, cy = (torch.rand(2, generator=g) - 0.5) * 0.4
        rx, ry = 0.45 + 0.3 * torch.rand(2, generator=g)
        masks.append((((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0).float())
    return torch.stack(masks)[:, None]


def make_inputs(variant: str) -> dict[str, torch.Tensor]:
    """Deterministic inputs: `person` (B, 22, H, W) in [-1, 1], `cloth` (B, 3, H, W) in
    [-1, 1], `cloth_mask` (B, 1, H, W) {0, 1}, and TOM inputs `tom_cloth` (B, 3, H, W),
    `tom_mask` (B, 1, H, W) {0, 1} (independent of the GMM, so each module is checked on
    its own)."""
    g = torch.Generator().manual_seed(INPUT_SEED + VARIANT_OFFSET[variant])
    shape_and_head = _smooth(g, BATCH, 4)
    pose = -torch.ones(BATCH, 18, HEIGHT, WIDTH)
    centres = torch.randint(5, min(HEIGHT, WIDTH) - 6, (BATCH, 18, 2), generator=g)
    for b in range(BATCH):
        for k in range(18):
            y, x = (int(v) for v in centres[b, k])
            pose[b, k, y - 5 : y + 6, x - 5 : x + 6] = 1.0
    person = torch.cat([shape_and_head, pose], 1)
    cloth_mask = _silhouette(g, BATCH)
    cloth = _smooth(g, BATCH, 3) * cloth_mask + (1 - cloth_mask)  # white background, as VITON
    tom_mask = _silhouette(g, BATCH)
    tom_cloth = _smooth(g, BATCH, 3) * tom_mask + (1 - tom_mask)
    return {
        "person": person,
        "cloth": cloth,
        "cloth_mask": cloth_mask,
        "tom_cloth": tom_cloth,
        "tom_mask": tom_mask,
    }


def sample_indices(numel: int, name: str) -> np.ndarray:
    """`SAMPLES` fixed flat indices into a tensor of `numel` elements (seeded by `name`)."""
    rng = np.random.default_rng(key_seed(name))
    return np.sort(rng.choice(numel, size=min(SAMPLES, numel), replace=False)).astype(np.int64)


def summarise(name: str, t: torch.Tensor) -> dict[str, np.ndarray]:
    """Size-capped record of an output: values at fixed indices, per-channel means, shape.

    ``<x>_f64`` records share ``<x>``'s indices (stored once, with ``<x>``).
    """
    arr = t.detach().double().cpu().numpy()
    base = name.removesuffix("_f64")
    idx = sample_indices(arr.size, base)
    channel_axis = arr.ndim - 1 if base.endswith("grid") else 1
    axes = tuple(i for i in range(arr.ndim) if i != channel_axis)
    out = {
        f"{name}.shape": np.array(arr.shape, np.int64),
        f"{name}.values": arr.reshape(-1)[idx].astype(np.float32),
        f"{name}.channel_mean": arr.mean(axis=axes),
        f"{name}.channel_absmean": np.abs(arr).mean(axis=axes),
    }
    if name == base:
        out[f"{name}.idx"] = idx.astype(np.int32)
    return out

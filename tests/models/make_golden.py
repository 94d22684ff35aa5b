"""Regenerate the CP-VTON / CP-VTON+ fidelity goldens by running the *reference* code.

Usage (from the repository root; the reference checkouts live outside the repository and
are never committed)::

    git clone https://github.com/sergeywong/cp-vton /tmp/ref/cp-vton          # fbaf333
    git clone https://github.com/minar09/cp-vton-plus /tmp/ref/cp-vton-plus   # 5d7a899
    python tests/models/make_golden.py --reference /tmp/ref/cp-vton \
        --reference /tmp/ref/cp-vton-plus            # compare with the saved goldens
    python tests/models/make_golden.py ... --accept  # overwrite them

Each reference's `networks.py` is imported as it is, with four shims and no edits: a stub
`torchvision` (imported only for the VGG loss), `.cuda()` made a no-op while the modules are
built (the reference hard-codes ``use_cuda=True``), the correlation's output made contiguous
(torch 0.4's convolutions returned NCHW-contiguous outputs; today's return channels-last for
that input and the regression head's `view` fails), and the warps written as the reference's
`test.py` does them but with ``align_corners=True`` spelled out, which is what torch 0.4's
`grid_sample` did (the reference targets torch 0.4; today's default differs). The variant is
recognised from the reference GMM's cloth branch (3 input channels: CP-VTON, 1: CP-VTON+).

Weights and inputs come from `fidelity_data` (see its docstring for the recipe); each
variant writes `golden/<variant>.npz` with the reference's state-dict layout and, for grid,
theta, warped cloth, warped mask, rendered person, composition mask and try-on, the values
at 4096 fixed indices and per-channel means (each file well under 200 KB).

The reference's TPS runs in float32 and its 25 kernel terms reach about 26 in magnitude and
cancel, so its grid carries rounding of about 1e-5; bilinear sampling multiplies that by
the image gradient times (W - 1) / 2, up to about 1e-3 at the one-pixel edge of a binary
mask. So the grid and the warps are also recorded from the reference's own TPS code run in
float64 (`*_f64`), which is what the tests hold the warps to at 1e-4.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.models.fidelity_data import (  # noqa: E402
    HEIGHT,
    WIDTH,
    deterministic_state_dict,
    make_inputs,
    summarise,
)

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
MAX_FILE_BYTES = 200_000


def _load_reference_networks(ref_dir: Path) -> types.ModuleType:
    path = ref_dir / "networks.py"
    if not path.is_file():
        raise SystemExit(f"{ref_dir} has no networks.py; pass a CP-VTON or CP-VTON+ checkout")
    if "torchvision" not in sys.modules:
        # The reference imports torchvision only to build its VGG loss; never used here.
        stub = types.ModuleType("torchvision")
        stub.models = types.ModuleType("torchvision.models")
        sys.modules["torchvision"] = stub
        sys.modules["torchvision.models"] = stub.models
    name = "reference_networks_" + hashlib.sha256(str(path).encode()).hexdigest()[:8]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _cuda_is_a_no_op() -> Iterator[None]:
    with (
        mock.patch.object(nn.Module, "cuda", lambda self, *a, **k: self),
        mock.patch.object(torch.Tensor, "cuda", lambda self, *a, **k: self),
    ):
        yield


def _reference_tps_float64(ref: types.ModuleType, tps: nn.Module) -> nn.Module:
    """A copy of the reference's TpsGridGen with its constants in float64 (its code keeps
    them as plain tensor attributes, so `.double()` would not reach them)."""
    with _cuda_is_a_no_op():
        tps64 = ref.TpsGridGen(tps.out_h, tps.out_w, use_cuda=False, grid_size=int(tps.N**0.5))
    for name in ("grid_X", "grid_Y", "P_X", "P_Y", "P_X_base", "P_Y_base"):
        setattr(tps64, name, getattr(tps64, name).double())
    tps64.Li = tps64.compute_L_inverse(tps64.P_X_base, tps64.P_Y_base).unsqueeze(0)
    return tps64


def _layout(module: nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def run_reference(ref_dir: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Run one reference checkout; returns (variant, golden arrays)."""
    ref = _load_reference_networks(ref_dir)
    opt = SimpleNamespace(grid_size=5, fine_height=HEIGHT, fine_width=WIDTH)
    # torch 0.4 convolutions always returned contiguous NCHW; today a conv fed the
    # reference's transposed correlation returns channels-last, and its `x.view(b, -1)` in
    # the regression head fails. Making the correlation contiguous restores 0.4's behaviour
    # without changing a value.
    correlate = ref.FeatureCorrelation.forward
    ref.FeatureCorrelation.forward = lambda self, a, b: correlate(self, a, b).contiguous()
    with _cuda_is_a_no_op():
        gmm = ref.GMM(opt)
    variant = {3: "cpvton", 1: "cpvton_plus"}[gmm.extractionB.model[0].in_channels]
    tom_in = 25 if variant == "cpvton" else 26  # the reference test.py's UnetGenerator(...)
    tom = ref.UnetGenerator(tom_in, 4, 6, ngf=64, norm_layer=nn.InstanceNorm2d)
    for module in (gmm, tom):
        module.load_state_dict(deterministic_state_dict(_layout(module)), strict=True)
        module.eval()

    x = make_inputs(variant)
    with torch.no_grad():
        # GMM stage, as the reference test.py: CP-VTON matches the cloth, CP-VTON+ its mask.
        grid, theta = gmm(x["person"], x["cloth"] if variant == "cpvton" else x["cloth_mask"])
        warped_cloth = F.grid_sample(x["cloth"], grid, padding_mode="border", align_corners=True)
        warped_mask = F.grid_sample(x["cloth_mask"], grid, padding_mode="zeros", align_corners=True)
        # The same warp with the reference's own TPS code run in float64, to tell its
        # float32 rounding (about 1e-5 in the grid) apart from differences in semantics.
        grid64 = _reference_tps_float64(ref, gmm.gridGen)(theta.double())
        warped_cloth64 = F.grid_sample(
            x["cloth"].double(), grid64, padding_mode="border", align_corners=True
        )
        warped_mask64 = F.grid_sample(
            x["cloth_mask"].double(), grid64, padding_mode="zeros", align_corners=True
        )
        # TOM stage, as the reference test.py.
        parts = [x["person"], x["tom_cloth"]] + ([x["tom_mask"]] if tom_in == 26 else [])
        outputs = tom(torch.cat(parts, 1))
        p_rendered, m_composite = torch.split(outputs, 3, 1)
        p_rendered = torch.tanh(p_rendered)
        m_composite = torch.sigmoid(m_composite)
        p_tryon = x["tom_cloth"] * m_composite + p_rendered * (1 - m_composite)

    arrays: dict[str, np.ndarray] = {
        "gmm_layout": np.array(json.dumps(_layout(gmm), sort_keys=True)),
        "tom_layout": np.array(json.dumps(_layout(tom), sort_keys=True)),
        "networks_sha256": np.array(
            hashlib.sha256((ref_dir / "networks.py").read_bytes()).hexdigest()
        ),
        "theta": theta.numpy().astype(np.float32),
    }
    for name, t in {
        "grid": grid,
        "warped_cloth": warped_cloth,
        "warped_mask": warped_mask,
        "grid_f64": grid64,
        "warped_cloth_f64": warped_cloth64,
        "warped_mask_f64": warped_mask64,
        "rendered": p_rendered,
        "mask": m_composite,
        "tryon": p_tryon,
    }.items():
        arrays.update(summarise(name, t))
    return variant, arrays


def _max_diff(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> str:
    lines = []
    for key, value in new.items():
        if key not in old:
            lines.append(f"  {key}: new")
        elif value.dtype.kind in "fc":
            lines.append(f"  {key}: max abs diff {np.abs(old[key] - value).max():.3g}")
        elif not np.array_equal(old[key], value):
            lines.append(f"  {key}: differs")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reference",
        type=Path,
        action="append",
        required=True,
        help="a CP-VTON or CP-VTON+ checkout (repeatable)",
    )
    parser.add_argument("--accept", action="store_true", help="overwrite the saved goldens")
    parser.add_argument("--out", type=Path, default=GOLDEN_DIR)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    status = 0
    for ref_dir in args.reference:
        variant, arrays = run_reference(ref_dir)
        path = args.out / f"{variant}.npz"
        if args.accept:
            args.out.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(path, **arrays)
            size = path.stat().st_size
            print(f"wrote {path} ({size / 1000:.0f} kB) from {ref_dir}")
            if size > MAX_FILE_BYTES:
                print(f"  {path} is over {MAX_FILE_BYTES} bytes: reduce SAMPLES")
                status = 1
        elif path.exists():
            with np.load(path, allow_pickle=False) as old:
                print(f"{path} vs {ref_dir}:\n{_max_diff(dict(old), arrays)}")
        else:
            print(f"{path} does not exist; run with --accept to create it")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())

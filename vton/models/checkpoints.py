"""Reading, checking and loading CP-VTON / CP-VTON+ checkpoints (after
`timm/models/_helpers.py` and timm's `_cfg`).

One way in: `load_model(path)` reads the file with ``torch.load(weights_only=True)`` (there
is no unsafe fallback: a file that needs arbitrary unpickling is refused, whoever made it),
strips DataParallel's ``module.`` prefix, recognises which network and variant the tensors
belong to from their shapes, builds that network and loads the weights with
``strict=True``. Every way this can go wrong (missing file, truncated file, a whole pickled
model, a text file, another architecture, a shape that does not fit) raises
`vton.errors.CheckpointError` with the path and, for a misfit, the key and both shapes, so a
misconfigured run fails before it renders anything.

`CHECKPOINTS` describes each published checkpoint (metadata only: nothing here downloads).
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import torch
from torch import nn

from vton.digest import DIGEST_CHARS, file_sha256
from vton.errors import CheckpointError
from vton.models._registry import FilterFn, create_model, get_filter_fn

M = TypeVar("M", bound=nn.Module)

__all__ = [
    "with_checkpoint",
    "CheckpointCfg",
    "CHECKPOINTS",
    "read_state_dict",
    "strip_module_prefix",
    "detect_checkpoint",
    "load_weights",
    "load_model",
    "checkpoint_sha256",
    "model_digest",
]

Kind = Literal["gmm", "tom"]
Variant = Literal["cpvton", "cpvton_plus"]


@dataclass(frozen=True)
class CheckpointCfg:
    """What a checkpoint is and how its network expects input (timm `_cfg`, torchvision
    `WeightsEnum.meta`)."""

    #: Registered model name that loads it, e.g. ``gmm_cpvton_plus``.
    name: str
    #: ``gmm`` (geometric matching: warps the cloth) or ``tom`` (try-on: renders).
    kind: Kind
    #: ``cpvton`` (Wang et al. 2018) or ``cpvton_plus`` (Minar et al. 2020).
    variant: Variant
    #: State-dict key of the first convolution whose input width tells the variants apart.
    first_conv: str
    #: Input channels of `first_conv` for this variant.
    in_chans: int
    #: What the network's inputs are, in order along channels.
    inputs: str
    #: Where the published weights can be fetched by hand (None: no official release).
    url: str | None
    #: sha256 of the published file, when known (None: not verified).
    sha256: str | None
    origin_repo: str
    paper: str
    license: str
    #: (height, width) the network was trained at and its TPS grid is built for.
    input_size: tuple[int, int] = (256, 192)
    #: Images as (x / 255 - 0.5) / 0.5, i.e. [-1, 1]; masks in {0, 1}.
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    notes: str = ""


_CPVTON = dict(
    origin_repo="https://github.com/sergeywong/cp-vton",
    paper="Wang et al., Toward Characteristic-Preserving Image-based Virtual Try-On Network, "
    "ECCV 2018",
    license="MIT (code); no separate licence is stated for weights",
)
_CPVTON_PLUS = dict(
    origin_repo="https://github.com/minar09/cp-vton-plus",
    paper="Minar et al., CP-VTON+: Clothing Shape and Texture Preserving Image-Based Virtual "
    "Try-On, CVPR Workshops 2020",
    license="MIT (code); no separate licence is stated for weights",
    url="https://1drv.ms/u/c/5435770760f02d2f/ES8t8GAHdzUggFSABAAAAAAB5ArDGoOr2-DU2pyW7NmH-g",
)
_NO_OFFICIAL = (
    "The authors published no weights; community-trained ones are linked from the origin "
    "repository's issues (e.g. sergeywong/cp-vton#16)."
)

CHECKPOINTS: dict[str, CheckpointCfg] = {
    cfg.name: cfg
    for cfg in (
        CheckpointCfg(
            name="gmm_cpvton",
            kind="gmm",
            variant="cpvton",
            first_conv="extractionB.model.0.weight",
            in_chans=3,
            inputs="person representation (22) | cloth RGB (3)",
            url=None,
            sha256=None,
            notes=_NO_OFFICIAL,
            **_CPVTON,
        ),
        CheckpointCfg(
            name="tom_cpvton",
            kind="tom",
            variant="cpvton",
            first_conv="model.model.0.weight",
            in_chans=25,
            inputs="person representation (22) + warped cloth (3)",
            url=None,
            sha256=None,
            notes=_NO_OFFICIAL,
            **_CPVTON,
        ),
        CheckpointCfg(
            name="gmm_cpvton_plus",
            kind="gmm",
            variant="cpvton_plus",
            first_conv="extractionB.model.0.weight",
            in_chans=1,
            inputs="person representation (22) | cloth mask (1)",
            sha256=None,
            notes="checkpoints/GMM/gmm_final.pth in the published archive",
            **_CPVTON_PLUS,
        ),
        CheckpointCfg(
            name="tom_cpvton_plus",
            kind="tom",
            variant="cpvton_plus",
            first_conv="model.model.0.weight",
            in_chans=26,
            inputs="person representation (22) + warped cloth (3) + warped cloth mask (1)",
            sha256=None,
            notes="checkpoints/TOM/tom_final.pth in the published archive",
            **_CPVTON_PLUS,
        ),
    )
}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def strip_module_prefix(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the ``module.`` prefix that `nn.DataParallel` adds to every key."""
    return {k.removeprefix("module."): v for k, v in state_dict.items()}


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a checkpoint file into a CPU state dict ``{key: tensor}``, weights-only.

    Accepts a plain state dict (zip or legacy torch 0.4 format) or one wrapped as
    ``{"state_dict": ...}``; strips ``module.``. Raises `CheckpointError` naming `path`
    otherwise.
    """
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"checkpoint not found: {p}")
    if not p.is_file():
        raise CheckpointError(f"checkpoint is not a file: {p}")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # weights_only refuses any pickled class; for a foreign byte stream it fails on an
        # unknown opcode instead. Both arrive as UnpicklingError.
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found:
            raise CheckpointError(
                f"{p}: holds pickled Python objects ({found.group(1)}; a whole saved model?), "
                "not a plain state dict; only weights-only checkpoints are loaded. Re-save it, "
                "where you trust it, with torch.save(model.state_dict(), path)."
            ) from None
        raise CheckpointError(f"{p}: not a PyTorch checkpoint (unreadable pickle stream)") from None
    except Exception as exc:  # truncated zip, EOF, foreign bytes: torch raises many types
        raise CheckpointError(
            f"{p}: not a readable PyTorch checkpoint (truncated, corrupt or another kind of "
            f"file: {_first_line(exc)})"
        ) from None
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{p}: holds a {type(obj).__name__}, not a state dict")
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{p}: not a state dict: entry {key!r} is a {type(value).__name__}, not a tensor"
            )
    return strip_module_prefix(obj)


def detect_checkpoint(
    state_dict: Mapping[str, torch.Tensor], source: str = "checkpoint"
) -> CheckpointCfg:
    """Which network and variant a state dict is for, from its first convolutions' input
    widths (GMM cloth branch: 3 CP-VTON, 1 CP-VTON+; TOM: 25 CP-VTON, 26 CP-VTON+)."""
    seen = []
    for cfg in CHECKPOINTS.values():
        weight = state_dict.get(cfg.first_conv)
        if weight is None:
            continue
        if weight.ndim == 4 and weight.shape[1] == cfg.in_chans:
            return cfg
        seen.append(f"{cfg.first_conv} {tuple(weight.shape)}")
    if seen:
        expected = ", ".join(
            f"{c.first_conv} (64, {c.in_chans}, 4, 4) for {c.name}" for c in CHECKPOINTS.values()
        )
        raise CheckpointError(
            f"{source}: unknown CP-VTON variant: has {'; '.join(sorted(set(seen)))}, "
            f"expected one of {expected}"
        )
    first = ", ".join(list(state_dict)[:3]) or "no keys"
    raise CheckpointError(
        f"{source}: not a CP-VTON / CP-VTON+ GMM or TOM state dict (it has neither "
        f"'extractionB.model.0.weight' nor 'model.model.0.weight'; first keys: {first})"
    )


def _fmt(keys: list[str], limit: int = 5) -> str:
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_weights(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    source: str = "checkpoint",
    filter_fn: FilterFn | None = None,
) -> nn.Module:
    """Load `state_dict` into `model` with ``strict=True`` after `filter_fn`; on any misfit
    raise `CheckpointError` naming `source`, each mismatched key with both shapes, and the
    missing and unexpected keys."""
    sd = dict(state_dict)
    if filter_fn is not None:
        sd = filter_fn(sd, model)
    own = model.state_dict()
    problems = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in sd.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    if missing:
        problems.append(f"missing keys: {_fmt(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_fmt(unexpected)}")
    if problems:
        raise CheckpointError(
            f"{source}: does not fit {type(model).__name__}: {'; '.join(problems)}"
        )
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as exc:  # anything the checks above did not anticipate
        raise CheckpointError(f"{source}: {_first_line(exc)}") from None
    return model


def with_checkpoint(
    model: M, checkpoint_path: str | os.PathLike | None, filter_fn: FilterFn | None = None
) -> M:
    """`model` with the weights at `checkpoint_path` loaded strictly and in eval mode (a
    loaded checkpoint is for inference unless trained further), or as built when None."""
    if checkpoint_path is not None:
        load_weights(
            model,
            read_state_dict(checkpoint_path),
            source=str(checkpoint_path),
            filter_fn=filter_fn,
        )
        model.eval()
    return model


def load_model(
    path: str | os.PathLike,
    kind: Kind | None = None,
    variant: Variant | None = None,
    device: str | torch.device = "cpu",
) -> nn.Module:
    """Read `path`, recognise its network and variant, build it, load strictly, and return
    it in eval mode on `device`, with its `CheckpointCfg` as ``model.pretrained_cfg``.

    `kind` / `variant`, when given, are checked against what the file holds (a TOM file
    passed as the GMM checkpoint fails here, not at the first batch).
    """
    sd = read_state_dict(path)
    cfg = detect_checkpoint(sd, source=str(path))
    if kind is not None and cfg.kind != kind:
        raise CheckpointError(
            f"{path}: is a {cfg.kind.upper()} checkpoint ({cfg.name}), expected a "
            f"{kind.upper()} one"
        )
    if variant is not None and cfg.variant != variant:
        raise CheckpointError(
            f"{path}: is a {cfg.variant} checkpoint ({cfg.name}), expected {variant}"
        )
    model = create_model(cfg.name)
    load_weights(model, sd, source=str(path), filter_fn=get_filter_fn(cfg.name))
    model.pretrained_cfg = cfg
    return model.eval().to(device)


def checkpoint_sha256(path: str | os.PathLike) -> str:
    """`vton.digest.file_sha256` of a checkpoint, a read error as `CheckpointError`."""
    try:
        return file_sha256(path)
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {path}: {_first_line(exc)}") from None


def model_digest(path: str | os.PathLike) -> str:
    """Short digest of a checkpoint file's bytes, for the index's `model_digest` column."""
    return checkpoint_sha256(path)[:DIGEST_CHARS]

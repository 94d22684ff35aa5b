"""CP-VTON / CP-VTON+ Try-On Module (TOM): renders the person wearing the warped garment
and a composition mask that decides, per pixel, between the warped garment and the
rendering.

Papers: Wang et al., "Toward Characteristic-Preserving Image-based Virtual Try-On Network",
ECCV 2018 (https://github.com/sergeywong/cp-vton, MIT); Minar et al., "CP-VTON+: Clothing
Shape and Texture Preserving Image-Based Virtual Try-On", CVPRW 2020
(https://github.com/minar09/cp-vton-plus, MIT). Module names match the reference so
`tom_final.pth` loads with ``strict=True`` (24 keys: 12 biased convolutions; the instance
norms have no parameters).

A 6-level U-Net (ngf 64, `vton.layers.build_unet`) maps the input to 4 channels:
rendered person = tanh(out[:, :3]), composition mask = sigmoid(out[:, 3]), and
try-on = warped_cloth * m + rendered * (1 - m), where m is the mask (CP-VTON+) or the mask
times the warped cloth mask (CP-VTON, as its train.py and test.py compose, when the mask is
given). CP-VTON's input is the person representation and the warped cloth (25 channels);
CP-VTON+ adds the warped cloth mask (26).

Convention: person representation (B, 22, 256, 192) float32 in [-1, 1]; warped cloth
(B, 3, 256, 192) in [-1, 1]; warped mask (B, 1, 256, 192) in {0, 1} (an input channel of
CP-VTON+, the composition's bound for CP-VTON).
Outputs: rendered and try-on (B, 3, 256, 192) in [-1, 1], mask (B, 1, 256, 192) in (0, 1).
"""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from vton.layers import build_unet
from vton.models._registry import register_model
from vton.models.checkpoints import strip_module_prefix, with_checkpoint

__all__ = [
    "TomOutput",
    "CpVtonTom",
    "compose_tryon",
    "checkpoint_filter_fn",
    "tom_cpvton",
    "tom_cpvton_plus",
]


class TomOutput(NamedTuple):
    """rendered (B, 3, H, W) in [-1, 1]; mask (B, 1, H, W) in (0, 1); tryon (B, 3, H, W)."""

    rendered: torch.Tensor
    mask: torch.Tensor
    tryon: torch.Tensor


class CpVtonTom(nn.Module):
    """The TOM; ``forward(person, warped_cloth, warped_mask=None) -> TomOutput``."""

    def __init__(
        self,
        in_chans: int = 25,
        out_chans: int = 4,
        num_downs: int = 6,
        ngf: int = 64,
        person_chans: int = 22,
    ) -> None:
        super().__init__()
        if in_chans - person_chans not in (3, 4):
            raise ValueError(
                f"in_chans must be person_chans + 3 (CP-VTON) or + 4 (CP-VTON+), got "
                f"{in_chans} with person_chans {person_chans}"
            )
        self.in_chans = in_chans
        self.person_chans = person_chans
        self.num_downs = num_downs
        self.model = build_unet(in_chans, out_chans, num_downs=num_downs, ngf=ngf)

    @property
    def uses_mask(self) -> bool:
        """True for CP-VTON+ (the warped mask is an input channel)."""
        return self.in_chans == self.person_chans + 4

    def forward_raw(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_chans, H, W) -> (B, 4, H, W) pre-activation outputs."""
        if x.ndim != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f"expected (B, {self.in_chans}, H, W), got {tuple(x.shape)}")
        self._check_size(x)
        return self.model(x)

    def _check_size(self, x: torch.Tensor) -> None:
        step = 2**self.num_downs
        if x.shape[2] % step or x.shape[3] % step:
            raise ValueError(f"H and W must be multiples of {step}, got {tuple(x.shape)}")

    def person_term(self, person: torch.Tensor) -> torch.Tensor:
        """The first convolution's share from the person representation (B, 22, H, W),
        bias included -> (B, ngf, H/2, W/2).

        That convolution is linear in its input channels, so it splits into a person part
        and a garment part; a renderer that meets each person in many pairs computes this
        once per person and passes it to `forward(person_term=...)`, leaving only the
        garment's 3-4 channels to convolve per pair. Equal to the joint convolution up to
        float32 rounding."""
        if person.ndim != 4 or person.shape[1] != self.person_chans:
            raise ValueError(
                f"expected person representation (B, {self.person_chans}, H, W), "
                f"got {tuple(person.shape)}"
            )
        conv = self._first_conv
        return F.conv2d(person, conv.weight[:, : self.person_chans], conv.bias, stride=2, padding=1)

    @property
    def _first_conv(self) -> nn.Conv2d:
        return self.model.model[0]

    def forward(
        self,
        person: torch.Tensor | None,
        warped_cloth: torch.Tensor,
        warped_mask: torch.Tensor | None = None,
        *,
        person_term: torch.Tensor | None = None,
    ) -> TomOutput:
        """CP-VTON+: `warped_mask` is a required input channel. CP-VTON: optional; when
        given, the composition mask is restricted to it, as CP-VTON's train.py and test.py
        compose (``m * warped_mask``). `person_term` (from `person_term`) replaces
        `person`, which may then be None."""
        if self.uses_mask and warped_mask is None:
            raise ValueError("CP-VTON+ TOM needs the warped cloth mask (B, 1, H, W)")
        if warped_cloth.ndim != 4 or warped_cloth.shape[1] != 3:
            raise ValueError(f"expected warped cloth (B, 3, H, W), got {tuple(warped_cloth.shape)}")
        if (person is None) == (person_term is None):
            raise ValueError("give exactly one of person and person_term")
        garment = [warped_cloth] + ([warped_mask] if warped_mask is not None else [])
        parts = garment if person is None else [person, *garment]
        shapes = {(p.shape[0], *p.shape[2:]) for p in parts}
        if len(shapes) != 1:
            raise ValueError(
                "inputs differ in batch or size: " + ", ".join(str(tuple(p.shape)) for p in parts)
            )
        restrict_to = None if self.uses_mask else warped_mask
        # the network's garment channels: CP-VTON's mask only bounds the composition
        garment_in = torch.cat([warped_cloth] + ([warped_mask] if self.uses_mask else []), dim=1)
        if person is not None:
            out = self.forward_raw(torch.cat([person, garment_in], dim=1))
            return compose_tryon(out, warped_cloth, restrict_to)
        b, _, h, w = warped_cloth.shape
        if person_term.shape != (b, self._first_conv.out_channels, h // 2, w // 2):
            raise ValueError(
                f"person_term {tuple(person_term.shape)} does not fit garment inputs "
                f"{tuple(warped_cloth.shape)}"
            )
        self._check_size(warped_cloth)
        conv = self._first_conv
        first = person_term + F.conv2d(
            garment_in, conv.weight[:, self.person_chans :], None, stride=2, padding=1
        )
        out = self.model.forward_after_down_conv(first)
        return compose_tryon(out, warped_cloth, restrict_to)


def compose_tryon(
    raw: torch.Tensor, warped_cloth: torch.Tensor, restrict_to: torch.Tensor | None = None
) -> TomOutput:
    """The TOM's raw (B, 4, H, W) output -> rendered = tanh, mask = sigmoid, and try-on =
    cloth * m + rendered * (1 - m), where m is the mask times `restrict_to` when given
    (CP-VTON composes so in training and test; CP-VTON+ uses the mask as it is)."""
    rendered = torch.tanh(raw[:, :3])
    mask = torch.sigmoid(raw[:, 3:4])
    selected = mask if restrict_to is None else mask * restrict_to
    tryon = warped_cloth * selected + rendered * (1 - selected)
    return TomOutput(rendered, mask, tryon)


def checkpoint_filter_fn(state_dict: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """Adapt a published TOM state dict: strip ``module.`` (the layout is otherwise the
    reference's own, so nothing else changes)."""
    return strip_module_prefix(state_dict)


def _create(in_chans: int, checkpoint_path: str | os.PathLike | None, **kwargs: Any) -> CpVtonTom:
    return with_checkpoint(
        CpVtonTom(in_chans=in_chans, **kwargs), checkpoint_path, checkpoint_filter_fn
    )


@register_model(checkpoint_filter_fn)
def tom_cpvton(checkpoint_path: str | os.PathLike | None = None, **kwargs: Any) -> CpVtonTom:
    """CP-VTON TOM (25 input channels); loads `checkpoint_path` strictly when given."""
    return _create(25, checkpoint_path, **kwargs)


@register_model(checkpoint_filter_fn)
def tom_cpvton_plus(checkpoint_path: str | os.PathLike | None = None, **kwargs: Any) -> CpVtonTom:
    """CP-VTON+ TOM (26 input channels); loads `checkpoint_path` strictly when given."""
    return _create(26, checkpoint_path, **kwargs)

"""Renderer names -> factories, and `auto`: the best renderer a run can use.

`auto` is CP-VTON(+) when both checkpoints are configured, else the weight-free default.
A run records the renderer it used on every index row; `rerun-failed` refuses to mix in a
different one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vton.errors import CheckpointError
from vton.render.base import Renderer
from vton.render.basic import BasicRenderer
from vton.render.physical import PhysicalRenderer

__all__ = [
    "RENDERERS",
    "RendererOptions",
    "register_renderer",
    "make_renderer",
    "resolve_renderer_name",
]


@dataclass(frozen=True)
class RendererOptions:
    """What renderers may need beyond their name (hashable: renderers are cached by it)."""

    gmm_checkpoint: str | None = None
    tom_checkpoint: str | None = None
    device: str | None = None
    amp: str | None = None
    batch_size: int = 16

    @property
    def has_checkpoints(self) -> bool:
        return bool(self.gmm_checkpoint and self.tom_checkpoint)


def _neural(options: RendererOptions) -> Renderer:
    if not options.has_checkpoints:
        raise CheckpointError(
            "the CP-VTON renderers need both checkpoints: --gmm-checkpoint PATH "
            "--tom-checkpoint PATH (gmm_final.pth / tom_final.pth); nothing is downloaded"
        )
    from vton.render.neural import NeuralRenderer

    return NeuralRenderer(
        options.gmm_checkpoint,
        options.tom_checkpoint,
        device=options.device,
        amp=options.amp,
        batch_size=options.batch_size,
    )


RENDERERS: dict[str, Callable[[RendererOptions], Renderer]] = {
    "physical": lambda options: PhysicalRenderer(),
    "basic": lambda options: BasicRenderer(),
    "cpvton": _neural,
    "cpvton_plus": _neural,
}
#: Used by `auto` when no checkpoints are configured.
DEFAULT_WEIGHT_FREE = "physical"


def register_renderer(name: str, factory: Callable[[RendererOptions], Renderer]) -> None:
    """Add a renderer (plugins, tests). Names are part of output paths: keep them stable."""
    RENDERERS[name] = factory


def resolve_renderer_name(name: str, options: RendererOptions | None = None) -> str:
    """`auto` -> `cpvton` with checkpoints (the variant is read from them), else the
    weight-free default; other names are checked."""
    options = options or RendererOptions()
    if name == "auto":
        return "cpvton" if options.has_checkpoints else DEFAULT_WEIGHT_FREE
    if name not in RENDERERS:
        raise ValueError(f"unknown renderer {name!r}; available: auto, {', '.join(RENDERERS)}")
    return name


def make_renderer(name: str, options: RendererOptions | None = None) -> Renderer:
    """Build a renderer. Its `name` is what the run records (for CP-VTON checkpoints, the
    variant they are); asking for one variant with the other's files is an error."""
    options = options or RendererOptions()
    resolved = resolve_renderer_name(name, options)
    renderer = RENDERERS[resolved](options)
    if name != "auto" and resolved in ("cpvton", "cpvton_plus") and renderer.name != resolved:
        raise CheckpointError(
            f"renderer {name!r} asked for, but the checkpoints are "
            f"{renderer.name!r}: use --renderer {renderer.name} or auto"
        )
    return renderer

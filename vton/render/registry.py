"""Renderer names -> factories. `auto` resolves to the best renderer the run can use."""

from __future__ import annotations

from collections.abc import Callable

from vton.render.base import Renderer
from vton.render.basic import BasicRenderer

__all__ = ["RENDERERS", "register_renderer", "make_renderer", "resolve_renderer_name"]

RENDERERS: dict[str, Callable[[], Renderer]] = {"basic": BasicRenderer}


def register_renderer(name: str, factory: Callable[[], Renderer]) -> None:
    """Add a renderer (plugins, tests). Names are part of output paths: keep them stable."""
    RENDERERS[name] = factory


def resolve_renderer_name(name: str) -> str:
    """`auto` -> the default weight-free renderer until checkpoints are configured."""
    if name == "auto":
        return "basic"
    if name not in RENDERERS:
        raise ValueError(f"unknown renderer {name!r}; available: auto, {', '.join(RENDERERS)}")
    return name


def make_renderer(name: str) -> Renderer:
    return RENDERERS[resolve_renderer_name(name)]()

"""Model names -> factories and checkpoint filters (after `timm/models/_registry.py`).

Names are the checkpoint registry's keys (`vton.models.checkpoints.CHECKPOINTS`), so a
detected checkpoint kind maps straight to the network that loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

__all__ = ["register_model", "create_model", "get_filter_fn", "list_models"]

StateDict = dict[str, Any]
FilterFn = Callable[[StateDict, nn.Module], StateDict]

_FACTORIES: dict[str, Callable[..., nn.Module]] = {}
_FILTERS: dict[str, FilterFn] = {}


def register_model(filter_fn: FilterFn) -> Callable[[Callable[..., nn.Module]], Callable]:
    """Decorator: register a factory under its function name, with the filter that adapts
    published state dicts to it."""

    def wrap(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        _FACTORIES[fn.__name__] = fn
        _FILTERS[fn.__name__] = filter_fn
        return fn

    return wrap


def list_models() -> list[str]:
    return sorted(_FACTORIES)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build an untrained network by registered name (weights: see `checkpoints.load_model`)."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _FACTORIES[name](**kwargs)


def get_filter_fn(name: str) -> FilterFn:
    if name not in _FILTERS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(list_models())}")
    return _FILTERS[name]

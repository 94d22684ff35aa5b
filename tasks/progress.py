"""Progress events from tasks to whoever is watching (the CLI's progress bars).

Tasks run in threads of the flow's process (local runner) or on remote workers (Dask).
A sink installed in this process receives events from tasks that run here; elsewhere the
events are simply dropped, and Prefect's logs tell the story.
"""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["ProgressSink", "advance", "set_sink", "shard_progress", "stage"]


class ProgressSink(Protocol):
    def stage(self, name: str, total: int) -> None: ...

    def advance(self, name: str, n: int = 1) -> None: ...

    def shard(self, shard: int, done: int, total: int) -> None: ...


_lock = threading.Lock()
_sink: ProgressSink | None = None


def set_sink(sink: ProgressSink | None) -> None:
    global _sink
    with _lock:
        _sink = sink


def stage(name: str, total: int) -> None:
    if _sink is not None:
        _sink.stage(name, total)


def advance(name: str, n: int = 1) -> None:
    if _sink is not None:
        _sink.advance(name, n)


def shard_progress(shard: int, done: int, total: int) -> None:
    if _sink is not None:
        _sink.shard(shard, done, total)

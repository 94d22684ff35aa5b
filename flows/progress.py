"""Progress display for the CLI: bars on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

__all__ = ["progress_sink"]


class _RichSink:
    """Rich progress bars: one per prep stage and one per shard."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), transient=False,
        )  # fmt: skip
        self._tasks: dict[str, int] = {}
        self._lock = threading.Lock()

    def stage(self, name: str, total: int) -> None:
        with self._lock:
            if name in self._tasks:
                self.progress.update(self._tasks[name], total=total)
            else:
                self._tasks[name] = self.progress.add_task(name, total=total)

    def advance(self, name: str, n: int = 1) -> None:
        with self._lock:
            if name in self._tasks:
                self.progress.advance(self._tasks[name], n)

    def shard(self, shard: int, done: int, total: int) -> None:
        name = f"shard {shard:05d}"
        with self._lock:
            if name not in self._tasks:
                self._tasks[name] = self.progress.add_task(name, total=total)
            self.progress.update(self._tasks[name], completed=done, total=total)


class _LineSink:
    """Plain lines for logs and CI: a line per finished shard and per finished stage."""

    def __init__(self) -> None:
        self._totals: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._lock = threading.Lock()
        self._started = time.perf_counter()

    def _say(self, text: str) -> None:
        print(f"[{time.perf_counter() - self._started:7.1f}s] {text}", flush=True)

    def stage(self, name: str, total: int) -> None:
        with self._lock:
            self._totals[name], self._done[name] = total, 0

    def advance(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._done[name] = self._done.get(name, 0) + n
            if self._done[name] == self._totals.get(name):
                self._say(f"{name}: {self._done[name]} prepared")

    def shard(self, shard: int, done: int, total: int) -> None:
        if done == total:
            self._say(f"shard {shard:05d}: {done}/{total} pairs")


@contextlib.contextmanager
def progress_sink() -> Iterator[object]:
    if sys.stdout.isatty():
        sink = _RichSink()
        with sink.progress:
            yield sink
    else:
        yield _LineSink()

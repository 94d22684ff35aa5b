"""A bounded least-recently-used cache of per-asset work.

A shard meets each garment and person in many pairs (rendered grouped by garment), so the
work done once per asset (decoded images, network inputs, network features) is kept; the
bound keeps a worker's memory flat however large the catalog is.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["LruCache"]

V = TypeVar("V")


class LruCache(Generic[V]):
    """At most `limit` values by key; the least recently used is dropped first."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self.limit = limit
        self._items: OrderedDict[str, V] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        """Keys from least to most recently used."""
        return list(self._items)

    def get(self, key: str) -> V:
        """The value under `key` (KeyError if absent), now the most recently used."""
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: str, value: V) -> V:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.limit:
            self._items.popitem(last=False)
        return value

    def get_or_make(self, key: str | None, make: Callable[[], V]) -> V:
        """The value under `key`, made by `make()` and kept if absent; a None key is made
        each time and never kept."""
        if key is None:
            return make()
        if key in self._items:
            return self.get(key)
        return self.put(key, make())

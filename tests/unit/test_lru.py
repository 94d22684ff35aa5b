"""The bounded per-asset cache: keeps the most recently used, makes each value once."""

from __future__ import annotations

import pytest

from vton.lru import LruCache


def test_keeps_the_most_recently_used_and_makes_each_value_once():
    made: list[str] = []

    def make(key: str):
        return lambda: made.append(key) or key.upper()

    cache: LruCache[str] = LruCache(2)
    assert cache.get_or_make("a", make("a")) == "A"
    assert cache.get_or_make("b", make("b")) == "B"
    assert cache.get_or_make("a", make("a")) == "A"  # a is now the most recent
    cache.get_or_make("c", make("c"))  # drops b, the least recently used
    assert made == ["a", "b", "c"] and cache.keys() == ["a", "c"] and "b" not in cache
    assert cache.get_or_make(None, make("n")) == "N" and len(cache) == 2  # never kept
    with pytest.raises(ValueError):
        LruCache(0)

"""The Cache contract (app/interfaces/cache.py) run against every implementation: the in-memory
LRU (query embeddings) and the file cache (zero-shot texts, head training features)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.infrastructure.cache.file_cache import FileCache
from app.infrastructure.cache.memory_cache import MemoryCache

MAKERS = {
    "memory": lambda folder, bound: MemoryCache(bound),
    "file": FileCache,
}


@pytest.fixture(params=list(MAKERS))
def make(request: pytest.FixtureRequest, tmp_path: Path):
    return lambda bound: MAKERS[request.param](tmp_path / "cache", bound)


def _put(cache, key: str, value: float) -> None:
    cache.put(key, np.array([value], dtype=np.float32))
    time.sleep(0.02)  # file modification times order the file cache's recency


def test_missing_key_is_none_and_values_round_trip(make):
    cache = make(4)
    assert cache.get("absent") is None
    _put(cache, "a", 1.0)
    np.testing.assert_array_equal(cache.get("a"), [1.0])
    assert cache.keys() == ["a"] and len(cache) == 1


def test_least_recently_used_is_evicted_and_get_counts_as_use(make):
    cache = make(2)
    _put(cache, "a", 1.0)
    _put(cache, "b", 2.0)
    assert cache.get("a") is not None  # "b" is now the least recently used
    time.sleep(0.02)
    _put(cache, "c", 3.0)
    assert sorted(cache.keys()) == ["a", "c"] and cache.get("b") is None
    assert cache.max_entries == 2


def test_clear_returns_how_many_were_dropped(make):
    cache = make(5)
    for i, key in enumerate("xyz"):
        _put(cache, key, float(i))
    assert cache.clear() == 3 and len(cache) == 0 and cache.get("x") is None


def test_concurrent_writers_stay_within_the_bound(make):
    cache = make(8)

    def writer(offset: int) -> None:
        for i in range(20):
            cache.put(f"k{offset}-{i}", np.array([i], dtype=np.float32))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= len(cache) <= 8
    listed = cache.keys()  # the Cache port lists keys; it is not a mapping
    assert all(cache.get(key) is not None for key in listed)

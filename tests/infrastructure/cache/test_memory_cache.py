"""MemoryCache: the Cache port's LRU contract."""

from __future__ import annotations

import threading

import pytest

from app.infrastructure.cache.memory_cache import MemoryCache


def test_get_missing_returns_none():
    assert MemoryCache(2).get("nope") is None


def test_evicts_least_recently_used():
    cache = MemoryCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None
    assert cache.keys() == ["b", "c"]
    assert len(cache) == 2


def test_get_refreshes_recency():
    cache = MemoryCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]


def test_put_existing_key_updates_and_refreshes():
    cache = MemoryCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("a", 10)
    cache.put("c", 3)
    assert cache.keys() == ["a", "c"]
    assert cache.get("a") == 10


def test_clear_returns_count():
    cache = MemoryCache(5)
    for key in "abc":
        cache.put(key, key)
    assert cache.clear() == 3
    assert len(cache) == 0
    assert cache.clear() == 0


def test_zero_entries_disables_cache():
    cache = MemoryCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None
    assert len(cache) == 0


def test_negative_bound_rejected():
    with pytest.raises(ValueError):
        MemoryCache(-1)


def test_thread_safety_smoke():
    cache = MemoryCache(50)
    errors: list[BaseException] = []

    def hammer(seed: int) -> None:
        try:
            for i in range(2000):
                key = f"k{(i * seed) % 200}"
                cache.put(key, i)
                cache.get(f"k{(i + seed) % 200}")
                if i % 500 == 0:
                    cache.keys()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(s,)) for s in range(1, 7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(cache) <= 50
    assert len(cache.keys()) == len(cache)

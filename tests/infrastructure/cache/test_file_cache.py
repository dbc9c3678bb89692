"""FileCache: the Cache port on disk (persists across instances, no pickles, bounded)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from app.infrastructure.cache.file_cache import FileCache


def test_round_trip_persists_across_instances(tmp_path):
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    FileCache(tmp_path, 10).put("text:model:abc", value)
    again = FileCache(tmp_path, 10)
    np.testing.assert_array_equal(again.get("text:model:abc"), value)
    assert again.get("text:model:other") is None
    assert again.keys() == ["text:model:abc"] and len(again) == 1


def test_least_recently_used_entries_are_evicted(tmp_path):
    cache = FileCache(tmp_path, 2)
    for i, key in enumerate(["a", "b"]):
        cache.put(key, np.array([i]))
        os.utime(cache._path(key), ns=(i * 10**9, i * 10**9))  # "a" older than "b"
    assert cache.get("a") is not None  # refreshes "a": "b" is now the oldest
    cache.put("c", np.array([2]))
    assert sorted(cache.keys()) == ["a", "c"]


def test_clear_and_disabled(tmp_path):
    cache = FileCache(tmp_path / "c", 5)
    cache.put("x", np.zeros(2))
    assert cache.clear() == 1 and len(cache) == 0
    off = FileCache(tmp_path / "off", 0)
    off.put("x", np.zeros(2))
    assert off.get("x") is None and not (tmp_path / "off").exists()


def test_only_arrays_of_numbers_no_pickles(tmp_path):
    cache = FileCache(tmp_path, 5)
    with pytest.raises(TypeError):
        cache.put("x", np.array([object()], dtype=object))
    with pytest.raises(TypeError):
        cache.put("x", {"not": "an array"})


def test_damaged_file_counts_as_missing_and_is_removed(tmp_path):
    cache = FileCache(tmp_path, 5)
    cache.put("x", np.ones(3))
    (damaged,) = tmp_path.glob("*.npz")
    damaged.write_bytes(b"garbage")
    assert cache.get("x") is None and not damaged.exists()

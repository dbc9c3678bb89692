"""The gallery guard: one writer at a time (threads and processes), each on the newest saved
gallery; a failed write leaves what is saved; snapshots follow saves made elsewhere."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest

from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.gallery_guard import GalleryGuard


def _store(directory) -> MemoryVectorStore:
    store = MemoryVectorStore(directory)
    store.load()
    return store


def _saved(directory, ids: list[int]) -> None:
    other = _store(directory)  # another process's view of the same index
    other.reset(other.model_stamp or "m@1")
    other.add(np.array(ids), np.ones((len(ids), 4), dtype=np.float32))
    other.save()


def test_a_writer_starts_from_what_another_process_saved(tmp_path):
    held = []

    @contextmanager
    def process_lock():
        held.append("taken")
        yield

    store = _store(tmp_path)
    guard = GalleryGuard(process_lock, store)
    _saved(tmp_path, [1, 2])
    with guard.writing():
        assert store.ids().tolist() == [1, 2]  # reloaded under the lock, before modifying
        with guard.writing():  # re-entered by the same thread: the process lock is not re-taken
            store.add(np.array([3]), np.ones((1, 4), dtype=np.float32))
        store.save()
    assert held == ["taken"]
    assert _store(tmp_path).ids().tolist() == [1, 2, 3]


def test_a_failed_write_leaves_the_saved_gallery(tmp_path):
    _saved(tmp_path, [1])
    store = _store(tmp_path)
    guard = GalleryGuard(store=store)
    with pytest.raises(OSError), guard.writing():
        store.add(np.array([5]), np.ones((1, 4), dtype=np.float32))
        raise OSError("disk full")  # before the save
    assert store.ids().tolist() == [1]


def test_snapshots_follow_saves_made_elsewhere(tmp_path):
    _saved(tmp_path, [1])
    store = _store(tmp_path)
    guard = GalleryGuard(store=store)
    assert guard.snapshot(lambda: store.ids().tolist()) == [1]
    assert guard.snapshot(lambda: pytest.fail("rebuilt without a change")) == [1]
    _saved(tmp_path, [1, 4])
    assert guard.snapshot(lambda: store.ids().tolist()) == [1, 4]

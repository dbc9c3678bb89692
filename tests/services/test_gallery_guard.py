"""The gallery guard: one writer at a time (threads and processes), each on the newest saved
gallery; a failed write leaves what is saved; snapshots follow saves made elsewhere."""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pytest

from app.domain.errors import BackendUnavailable
from app.infrastructure.vector_store import faiss_store
from app.infrastructure.vector_store.faiss_store import FaissVectorStore
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.gallery_guard import GalleryGuard
from tests.fakes import ReadIndexFails


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


def test_a_writer_that_cannot_load_the_newest_generation_saves_nothing(tmp_path, monkeypatch):
    """Issue 17 (the latent loss): this process holds generation 1, another saved generation 2
    with id 10, and reloading it fails on a transient error. Reads keep generation 1; a write is
    refused in one line and saves nothing, where it used to save generation 3 holding only its
    own change (the stamped rows of 0, 1, 2 and 10 then had no vector). Its retry succeeds once
    the read works, on top of generation 2."""
    ours, theirs = FaissVectorStore(tmp_path), FaissVectorStore(tmp_path)
    ours.reset("m@1")
    ours.add(np.arange(3), np.eye(3, 4, dtype=np.float32))
    ours.save()
    theirs.load()
    theirs.add(np.array([10]), np.ones((1, 4), dtype=np.float32))
    theirs.save()
    guard = GalleryGuard(store=ours)

    def add_20() -> None:
        with guard.writing():
            ours.add(np.array([20]), np.ones((1, 4), dtype=np.float32))
            ours.save()

    real = faiss_store.load_faiss()
    monkeypatch.setattr(faiss_store, "load_faiss", lambda: ReadIndexFails(real))
    assert guard.snapshot(lambda: ours.ids().tolist()) == [0, 1, 2]
    with pytest.raises(BackendUnavailable, match=r"Too many open files.*nothing was changed"):
        add_20()
    assert ours.ids().tolist() == [0, 1, 2]
    assert json.loads((tmp_path / "manifest.json").read_text())["generation"] == 2
    monkeypatch.setattr(faiss_store, "load_faiss", lambda: real)
    assert _saved_ids(tmp_path) == [0, 1, 2, 10]  # generation 2 is still the newest
    add_20()
    assert _saved_ids(tmp_path) == [0, 1, 2, 10, 20]


def test_a_replacing_write_may_save_over_an_index_that_does_not_load(tmp_path):
    """`rebuild --full` (the recovery of a damaged index) goes on where other writers stop."""
    _saved(tmp_path, [1, 2])
    store = _store(tmp_path)
    _saved(tmp_path, [1, 2, 3])
    for name in json.loads((tmp_path / "manifest.json").read_text())["files"].values():
        (tmp_path / name).write_bytes(b"damaged")
    guard = GalleryGuard(store=store)
    with pytest.raises(BackendUnavailable, match="rebuild --full"), guard.writing():
        pytest.fail("a write ran on an index it could not load")
    with guard.writing(replacing=True):
        store.replace_all("m@2", np.array([7]), np.ones((1, 4), dtype=np.float32))
        store.save()
    assert _store(tmp_path).ids().tolist() == [7]


def _saved_ids(directory) -> list[int]:
    store = FaissVectorStore(directory)
    store.load()
    return store.ids().tolist()

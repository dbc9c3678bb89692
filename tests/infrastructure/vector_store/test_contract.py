"""VectorStore contract, run against every adapter (FAISS flat / IVF / HNSW, in-memory, Qdrant local
mode) and both metrics. The approximate indexes get parameters that make them exhaustive here
(IVF visits every list, HNSW explores more nodes than there are), so exact answers are expected;
their recall on larger data is measured in test_faiss_indexes.py and scripts/bench_stores.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.domain.errors import (
    BackendUnavailable,
    IndexNotReady,
    ModelMismatch,
    NotFound,
    UnknownIds,
)
from app.domain.models import VectorPayload
from app.infrastructure import files
from app.infrastructure.vector_store.base import BaseVectorStore
from app.infrastructure.vector_store.faiss_store import FaissIndexOptions, FaissVectorStore
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.infrastructure.vector_store.qdrant_store import QdrantOptions, QdrantVectorStore

DIM = 8
STAMP = "test-model@v1"
StoreFactory = Callable[..., BaseVectorStore]
EXHAUSTIVE_IVF = FaissIndexOptions(kind="ivf", nlist=4, nprobe=4, ivf_min_train=8)
EXHAUSTIVE_HNSW = FaissIndexOptions(kind="hnsw", hnsw_m=16, ef_construction=64, ef_search=1024)

FACTORIES: dict[str, Callable[[Path, str], BaseVectorStore]] = {
    "faiss": FaissVectorStore,
    "faiss-ivf": lambda d, metric: FaissVectorStore(d, metric, EXHAUSTIVE_IVF),
    "faiss-hnsw": lambda d, metric: FaissVectorStore(d, metric, EXHAUSTIVE_HNSW),
    "memory": MemoryVectorStore,
    # the local mode makes the same client calls as a server; small batches exercise batching
    "qdrant": lambda d, metric: QdrantVectorStore(QdrantOptions(path=d, batch_size=7), metric),
}
FILE_STORES = ["faiss", "faiss-ivf", "faiss-hnsw", "memory"]


@pytest.fixture(params=list(FACTORIES))
def store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=FILE_STORES)
def file_store_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=["cosine", "l2"])
def metric(request: pytest.FixtureRequest) -> str:
    return request.param


def factory(kind: str, metric: str, tmp_path: Path) -> StoreFactory:
    def make(directory: Path | None = None, metric_: str | None = None) -> BaseVectorStore:
        return FACTORIES[kind](directory or tmp_path / "index", metric_ or metric)

    return make


@pytest.fixture
def make_store(store_kind, metric, tmp_path) -> StoreFactory:
    return factory(store_kind, metric, tmp_path)


@pytest.fixture
def make_file_store(file_store_kind, metric, tmp_path) -> StoreFactory:
    return factory(file_store_kind, metric, tmp_path)


@pytest.fixture
def store(make_store) -> BaseVectorStore:
    s = make_store()
    s.reset(STAMP)
    return s


def saved(s: BaseVectorStore) -> BaseVectorStore:
    """The store with three vectors, saved."""
    s.reset(STAMP)
    s.add(np.arange(3), vectors(3))
    s.save()
    return s


def vectors(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def expected(ids: np.ndarray, stored: np.ndarray, query: np.ndarray, metric: str, k: int):
    if metric == "cosine":
        scores = stored @ query
        order = np.argsort(-scores, kind="stable")
    else:
        scores = ((stored - query) ** 2).sum(axis=1)
        order = np.argsort(scores, kind="stable")
    return [(int(ids[i]), float(scores[i])) for i in order[:k]]


def assert_hits(actual, wanted) -> None:
    assert [i for i, _ in actual] == [i for i, _ in wanted]
    np.testing.assert_allclose([s for _, s in actual], [s for _, s in wanted], atol=1e-5)


def test_search_orders_best_first_with_metric_scores(store, metric):
    ids = np.arange(100, 130, dtype=np.int64)
    data = vectors(30)
    store.add(ids, data)
    queries = vectors(3, seed=1)
    hits = store.search(queries, k=5)
    assert len(hits) == 3
    for query, row in zip(queries, hits, strict=True):
        assert_hits(row, expected(ids, data, query, metric, 5))


def test_self_query_is_best_hit(store, metric):
    data = vectors(10)
    store.add(np.arange(10), data)
    best_id, best_score = store.search(data[3:4], k=1)[0][0]
    assert best_id == 3
    assert best_score == pytest.approx(1.0 if metric == "cosine" else 0.0, abs=1e-5)


def test_cosine_normalises_unnormalised_input(make_store):
    s = make_store(metric_="cosine")
    s.add(np.array([1, 2]), np.array([[3.0, 0, 0, 0], [1.0, 1.0, 0, 0]]))
    hits = s.search(np.array([[10.0, 0, 0, 0]]), k=2)[0]
    assert [i for i, _ in hits] == [1, 2]
    np.testing.assert_allclose([s_ for _, s_ in hits], [1.0, np.sqrt(0.5)], atol=1e-6)


def test_add_replaces_existing_id(store, metric):
    data = vectors(5)
    store.add(np.arange(5), data)
    store.add(np.array([2]), data[4:5] * 1.0)
    assert len(store) == 5
    assert sorted(store.ids().tolist()) == [0, 1, 2, 3, 4]
    top = store.search(data[4:5], k=2)[0]
    assert {i for i, _ in top} == {2, 4}


def test_duplicate_ids_in_one_batch_keep_last(store):
    data = vectors(3)
    store.add(np.array([7, 7, 8]), data)
    assert len(store) == 2
    assert store.search(data[1:2], k=1)[0][0][0] == 7


def test_remove_ids_len(store):
    store.add(np.arange(10), vectors(10))
    store.remove(np.array([2, 5, 999]))
    assert len(store) == 8
    assert sorted(store.ids().tolist()) == [0, 1, 3, 4, 6, 7, 8, 9]
    assert store.ids().dtype == np.int64
    found = {i for row in store.search(vectors(4, seed=3), k=10) for i, _ in row}
    assert found.isdisjoint({2, 5})
    store.remove(np.array([], dtype=np.int64))
    assert len(store) == 8


def test_k_larger_than_size_and_zero(store):
    store.add(np.arange(3), vectors(3))
    assert len(store.search(vectors(1, seed=5), k=50)[0]) == 3
    assert store.search(vectors(2, seed=5), k=0) == [[], []]


def test_empty_store_returns_empty_hits_per_query(store):
    assert len(store) == 0
    assert store.search(vectors(2, seed=5), k=5) == [[], []]
    assert store.ids().shape == (0,)


def test_wrong_dimension_raises_clear_error(store):
    store.add(np.arange(3), vectors(3))
    with pytest.raises(ModelMismatch, match=r"dimension 4.*dimension 8"):
        store.search(vectors(1, dim=4), k=1)
    with pytest.raises(ModelMismatch, match="rebuild --full"):
        store.add(np.array([9]), vectors(1, dim=4))


@pytest.mark.parametrize(
    ("ids", "data"),
    [
        (np.arange(3), np.zeros((2, DIM))),
        (np.arange(3.0), np.zeros((3, DIM))),
        (np.arange(2), np.full((2, DIM), np.nan)),
        (np.arange(2), np.zeros((2, 2, 2))),
    ],
    ids=["count-mismatch", "float-ids", "nan", "3d"],
)
def test_bad_input_raises_value_error(store, ids, data):
    with pytest.raises(ValueError):
        store.add(ids, data)
    assert len(store) == 0


def test_save_load_round_trip(make_store, metric):
    first = make_store()
    first.reset(STAMP)
    ids = np.array([5, 3, 1_000_000_000_000], dtype=np.int64)
    first.add(ids, vectors(3))
    first.save()
    queries = vectors(4, seed=9)
    fresh = make_store()
    assert fresh.load() is True
    assert fresh.model_stamp == STAMP
    assert sorted(fresh.ids().tolist()) == sorted(ids.tolist())
    assert fresh.search(queries, k=3) == first.search(queries, k=3)
    info = fresh.info()
    assert (info.size, info.dim, info.metric, info.model_stamp) == (3, DIM, metric, STAMP)
    assert info.bytes_on_disk > 0


def test_load_without_save_returns_false(make_store):
    assert make_store().load() is False


def test_reset_changes_stamp_and_empties(store):
    store.add(np.arange(4), vectors(4))
    store.save()
    store.reset("other-model@v2")
    assert len(store) == 0
    assert store.model_stamp == "other-model@v2"
    store.add(np.arange(2), vectors(2, dim=16))  # a new model may have a new dimension
    assert store.info().dim == 16


def test_empty_saved_store_keeps_stamp(make_store):
    s = make_store()
    s.reset(STAMP)
    s.save()
    fresh = make_store()
    assert fresh.load() is True
    assert (len(fresh), fresh.model_stamp) == (0, STAMP)


def test_saving_keeps_only_the_latest_generation(make_file_store, tmp_path):
    store = make_file_store()
    store.reset(STAMP)
    for n in (3, 4, 5):
        store.add(np.arange(n), vectors(n))
        store.save()
    names = sorted(p.name for p in (tmp_path / "index").iterdir())
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert manifest["generation"] == 3
    assert names == sorted([".lock", "manifest.json", *manifest["files"].values()])


def test_crash_before_manifest_commit_keeps_previous_state(make_file_store, monkeypatch):
    s = saved(make_file_store())
    s.add(np.arange(3, 10), vectors(7, seed=2))

    def crash(path, data):
        raise OSError("power cut")

    monkeypatch.setattr(files, "atomic_write_bytes", crash)
    with pytest.raises(OSError, match="power cut"):
        s.save()
    monkeypatch.undo()
    fresh = make_file_store()
    assert fresh.load() is True
    assert sorted(fresh.ids().tolist()) == [0, 1, 2]
    s.save()  # the next save succeeds and cleans up the orphaned generation
    again = make_file_store()
    assert again.load() is True
    assert len(again) == 10


def test_garbage_uncommitted_generation_is_ignored(make_file_store, tmp_path):
    saved(make_file_store())
    directory = tmp_path / "index"
    for name in (
        "index-000002.bin",
        "ids-000002.npy",
        "vectors-000002.npy",
        ".manifest.json.x.tmp",
    ):
        (directory / name).write_bytes(b"\x00garbage")
    fresh = make_file_store()
    assert fresh.load() is True
    assert len(fresh) == 3


def test_damaged_data_file_raises_index_not_ready(make_file_store, tmp_path):
    saved(make_file_store())
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    for name in manifest["files"].values():
        (tmp_path / "index" / name).write_bytes(b"not an index")
    with pytest.raises(IndexNotReady, match="rebuild --full"):
        make_file_store().load()


def test_other_metric_on_disk_raises_model_mismatch(make_store, metric):
    saved(make_store())
    other = "l2" if metric == "cosine" else "cosine"
    with pytest.raises(ModelMismatch, match=r"metric.*rebuild --full"):
        make_store(metric_=other).load()


def test_other_store_kind_on_disk_raises_model_mismatch(file_store_kind, tmp_path):
    s = FACTORIES[file_store_kind](tmp_path / "index", "cosine")
    s.reset(STAMP)
    s.save()
    for other in FILE_STORES:
        if other != file_store_kind:
            with pytest.raises(ModelMismatch, match="kind"):
                FACTORIES[other](tmp_path / "index", "cosine").load()


def test_unknown_metric_rejected(store_kind, tmp_path):
    with pytest.raises(ValueError, match="metric"):
        FACTORIES[store_kind](tmp_path, "dot")


def test_memory_store_without_directory():
    s = MemoryVectorStore()
    s.reset(STAMP)
    s.add(np.arange(3), vectors(3))
    s.save()
    assert s.load() is False
    assert s.info().kind == "memory"
    assert s.info().bytes_on_disk == 0


def test_many_small_adds_and_batched_queries_agree_with_exact_search(make_store, metric):
    stores = [make_store(), MemoryVectorStore(None, metric)]
    data = vectors(600, seed=4)
    for s in stores:
        s.reset(STAMP)
        for start in range(0, 600, 32):
            s.add(np.arange(start, min(start + 32, 600)), data[start : start + 32])
        s.add(np.arange(0, 600, 7), data[::7][::-1].copy())  # replace a spread of ids
        s.remove(np.arange(1, 600, 50))
    queries = vectors(50, seed=6)
    actual, exact = (s.search(queries, k=10) for s in stores)
    for a, b in zip(actual, exact, strict=True):
        assert_hits(a, b)


def test_a_failed_load_keeps_what_the_store_held(make_file_store, tmp_path):
    """A load that fails swaps nothing in: the store keeps serving what it held; a store that
    held nothing (start-up) stays empty and unstamped, so it never passes for a current one."""
    s = saved(make_file_store())
    held = s.vectors(np.arange(3))
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    for name in manifest["files"].values():
        (tmp_path / "index" / name).unlink()
    with pytest.raises(IndexNotReady):
        s.load()
    assert (s.ids().tolist(), s.model_stamp) == ([0, 1, 2], STAMP)
    np.testing.assert_array_equal(s.vectors(np.arange(3)), held)
    assert s.search(held[:1], 1)[0][0][0] == 0
    fresh = make_file_store()
    with pytest.raises(IndexNotReady):
        fresh.load()
    assert (len(fresh), fresh.model_stamp) == (0, None)


def _too_many_open_files(*_args: object) -> None:
    raise OSError(24, "Too many open files")


def _behind(make_file_store) -> tuple[BaseVectorStore, BaseVectorStore]:
    """Two views of one index (two processes): `held` loaded generation 1 ([0, 1, 2]), then the
    other saved generation 2 with id 10 added."""
    held, other = saved(make_file_store()), make_file_store()
    other.load()
    other.add(np.array([10]), vectors(1, seed=5))
    other.save()
    return held, other


def test_a_reload_that_fails_keeps_the_index_and_refuses_a_writer(
    make_file_store, monkeypatch, caplog
):
    """Issue 17: reloading the newer generation fails on a transient error. A reader keeps the
    generation it holds (and says so); a writer gets one clear error instead of saving its change
    over generation 1, which would drop id 10. Once the read works, the writer's retry loads it."""
    held, _ = _behind(make_file_store)
    with monkeypatch.context() as patch:
        patch.setattr(held, "_read", _too_many_open_files)
        assert not held.refresh()
        assert (held.ids().tolist(), held.model_stamp) == ([0, 1, 2], STAMP)
        assert "kept the index held in memory (generation 1)" in caplog.text
        with pytest.raises(BackendUnavailable, match=r"Too many open files.*nothing was changed"):
            held.refresh(must_load=True)
        assert held.ids().tolist() == [0, 1, 2]
    assert held.refresh(must_load=True)  # tried again though the manifest is unchanged
    assert held.ids().tolist() == [0, 1, 2, 10]
    held.add(np.array([20]), vectors(1, seed=6))
    held.save()
    reopened = make_file_store()
    assert reopened.load() and reopened.ids().tolist() == [0, 1, 2, 10, 20]


def test_a_reader_whose_reload_failed_follows_the_next_save(make_file_store, monkeypatch):
    held, other = _behind(make_file_store)
    with monkeypatch.context() as patch:
        patch.setattr(held, "_read", _too_many_open_files)
        assert not held.refresh()
    assert not held.refresh()  # no new try while nothing changed (a writer may be at work)
    other.add(np.array([11]), vectors(1, seed=7))
    other.save()
    assert held.refresh() and held.ids().tolist() == [0, 1, 2, 10, 11]


def test_vectors_returns_rows_in_the_order_asked(store, metric):
    data = vectors(6)
    store.add(np.arange(10, 16), data)
    store.add(np.array([12]), data[5:6])  # replaced
    store.remove(np.array([13]))
    got = store.vectors(np.array([15, 10, 12, 15]))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, data[[5, 0, 5, 5]], atol=1e-6)
    assert store.vectors(np.array([], dtype=np.int64)).shape[0] == 0


def test_cosine_vectors_are_stored_unit_length(make_store):
    s = make_store(metric_="cosine")
    s.add(np.array([1]), np.array([[3.0, 4.0, 0, 0]]))
    np.testing.assert_allclose(s.vectors(np.array([1])), [[0.6, 0.8, 0, 0]], atol=1e-6)


def test_vectors_of_unknown_ids_raise(store):
    store.add(np.arange(3), vectors(3))
    store.remove(np.array([1]))
    for missing in ([1], [0, 7]):
        with pytest.raises(UnknownIds, match="not in the index") as caught:
            store.vectors(np.array(missing))
        assert isinstance(caught.value, NotFound) and isinstance(caught.value, KeyError)


def test_vectors_survive_save_and_load(make_store):
    first = make_store()
    first.reset(STAMP)
    data = vectors(5)
    first.add(np.arange(5), data)
    first.save()
    fresh = make_store()
    assert fresh.load() is True
    np.testing.assert_allclose(fresh.vectors(np.array([4, 0])), data[[4, 0]], atol=1e-6)


def test_payloads_are_accepted_and_do_not_change_search(store, metric):
    data = vectors(4)
    payloads = [
        VectorPayload("p1"),
        VectorPayload("p2", "hat"),
        VectorPayload(),
        VectorPayload("p3", "shoe", (1, 2, 30, 40)),
    ]
    store.add(np.arange(4), data, payloads)
    assert_hits(store.search(data[2:3], k=4)[0], expected(np.arange(4), data, data[2], metric, 4))
    with pytest.raises(ValueError, match="payloads"):
        store.add(np.arange(2), vectors(2), payloads[:1])


def test_negative_ids_are_refused(store):
    with pytest.raises(ValueError, match=">= 0"):
        store.add(np.array([-1]), vectors(1))
    assert len(store) == 0


def test_vectors_returns_stored_rows_in_the_order_asked(store, metric):
    data = vectors(6, seed=11) * (1.0 if metric == "cosine" else 3.0)
    ids = np.array([40, 10, 30, 20, 60, 50], dtype=np.int64)
    store.add(ids, data)
    got = store.vectors(np.array([20, 40, 50]))
    assert got.dtype == np.float32 and got.shape == (3, DIM)
    want = data[[3, 0, 5]]
    if metric == "cosine":  # cosine stores keep unit rows
        want = want / np.linalg.norm(want, axis=1, keepdims=True)
    np.testing.assert_allclose(got, want, atol=1e-6)
    got[:] = 0  # a copy: the store is unchanged
    assert np.abs(store.vectors(np.array([20]))).sum() > 0
    assert store.vectors(np.array([], dtype=np.int64)).shape == (0, DIM)


def test_vectors_after_replace_remove_and_reload(make_store):
    s = make_store()
    s.reset(STAMP)
    data = vectors(5, seed=12)
    s.add(np.arange(5), data)
    s.add(np.array([1]), data[4:5])
    s.remove(np.array([3]))
    s.save()
    fresh = make_store()
    fresh.load()
    np.testing.assert_allclose(fresh.vectors(np.array([1, 4, 0])), data[[4, 4, 0]], atol=1e-6)
    with pytest.raises(KeyError, match="3"):
        fresh.vectors(np.array([0, 3]))


def test_vectors_of_unknown_ids_in_an_empty_store(store):
    with pytest.raises(KeyError):
        store.vectors(np.array([1]))
    assert store.vectors(np.array([], dtype=np.int64)).shape[0] == 0


def test_refresh_follows_saves_made_elsewhere(make_store):
    """Another process (here: another store object on the same files) saves; `refresh` makes
    this one serve the newest saved state, cheaply and only when there is one."""
    writer, reader = make_store(), make_store()
    writer.reset(STAMP)
    writer.add(np.arange(4), vectors(4))
    writer.save()
    assert reader.load() and not reader.refresh()  # nothing newer
    writer.add(np.array([10]), vectors(1, seed=3))
    writer.save()
    reader.refresh()
    assert 10 in reader.ids().tolist() and len(reader) == 5
    writer.reset("other-model@v2")
    writer.add(np.array([7]), vectors(1, seed=4))
    writer.save()
    assert reader.refresh() and reader.model_stamp == "other-model@v2"
    assert reader.ids().tolist() == [7]
    assert not reader.refresh()


def test_forced_refresh_drops_unsaved_changes(make_file_store):
    store = make_file_store()
    store.reset(STAMP)
    store.add(np.arange(3), vectors(3))
    store.save()
    store.add(np.array([9]), vectors(1, seed=2))  # e.g. a write that failed before its save
    assert store.refresh(force=True)
    assert store.ids().tolist() == [0, 1, 2]


def test_replace_all_swaps_model_and_vectors_in_one_step(store):
    store.add(np.arange(5), vectors(5))
    store.replace_all("other-model@v2", np.array([7, 8]), vectors(2, seed=6))
    assert store.model_stamp == "other-model@v2" and store.ids().tolist() == [7, 8]
    assert store.search(vectors(1, seed=6)[:1], 1)[0][0][0] == 7

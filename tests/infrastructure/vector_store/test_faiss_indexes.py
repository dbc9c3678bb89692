"""FAISS_INDEX=ivf|hnsw: training, retraining, removal on HNSW, persistence and recall."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.infrastructure.vector_store.faiss_indexes import (
    BLAS_THRESHOLD,
    is_hnsw,
    is_ivf,
    load_faiss,
    stored_ids,
    threads_for,
)
from app.infrastructure.vector_store.faiss_store import FaissIndexOptions, FaissVectorStore
from app.infrastructure.vector_store.memory_store import MemoryVectorStore


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 centres: the structure real embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, dim))
    rows = centres[rng.integers(0, 50, n)] + 0.35 * rng.standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def recall_at_10(store, data: np.ndarray, queries: np.ndarray) -> float:
    exact = MemoryVectorStore(None, store.metric)
    exact.add(np.arange(len(data)), data)
    truth = exact.search(queries, k=10)
    found = store.search(queries, k=10)
    hits = sum(
        len({i for i, _ in f} & {i for i, _ in t}) for f, t in zip(found, truth, strict=True)
    )
    return hits / (10 * len(queries))


def test_unknown_index_kind_is_refused():
    with pytest.raises(ValueError, match="flat, ivf, hnsw"):
        FaissIndexOptions(kind="pq")


def test_ivf_stays_exact_below_the_training_threshold_then_trains_at_save(tmp_path):
    options = FaissIndexOptions(kind="ivf", ivf_min_train=500, nprobe=4)
    store = FaissVectorStore(tmp_path / "ivf", "cosine", options)
    store.reset("m")
    data = clustered(800)
    store.add(np.arange(400), data[:400])
    store.save()
    assert not is_ivf(store._index)  # too few vectors to train: exact
    store.add(np.arange(400, 800), data[400:])
    store.save()
    assert is_ivf(store._index) and store._index.nlist == 20  # min(4 sqrt(800), 800 // 39)
    assert store.info().kind == "faiss-ivf"

    loaded = FaissVectorStore(tmp_path / "ivf", "cosine", FaissIndexOptions(kind="ivf", nprobe=9))
    assert loaded.load() is True
    assert is_ivf(loaded._index) and loaded._index.nprobe == 9
    assert sorted(loaded.ids().tolist()) == list(range(800))
    np.testing.assert_allclose(loaded.vectors(np.array([799, 3])), data[[799, 3]], atol=1e-6)


def test_ivf_trains_at_first_search_and_retrains_as_it_grows(tmp_path):
    store = FaissVectorStore(tmp_path, "l2", FaissIndexOptions(kind="ivf", ivf_min_train=100))
    store.reset("m")
    data = clustered(4000)
    store.add(np.arange(200), data[:200])
    store.search(data[:1], k=1)
    assert store._index.nlist == 5
    store.add(np.arange(200, 4000), data[200:])
    assert store.search(data[3999:4000], k=1)[0][0][0] == 3999
    assert store._index.nlist == 102  # auto list count doubled: retrained


def test_ivf_remove_and_replace_after_training(tmp_path):
    store = FaissVectorStore(tmp_path, "cosine", FaissIndexOptions(kind="ivf", ivf_min_train=50))
    store.reset("m")
    data = clustered(300)
    store.add(np.arange(300), data)
    store.save()
    store.remove(np.arange(0, 300, 3))
    store.add(np.array([1]), data[299:300])
    assert len(store) == 200
    assert set(store.ids().tolist()) == set(range(300)) - set(range(0, 300, 3))
    np.testing.assert_allclose(store.vectors(np.array([1])), data[299:300], atol=1e-6)
    found = {i for row in store.search(data[:20], k=10) for i, _ in row}
    assert found.isdisjoint(range(0, 300, 3))


def test_hnsw_removal_rebuilds_the_graph_before_use(tmp_path):
    store = FaissVectorStore(tmp_path, "cosine", FaissIndexOptions(kind="hnsw"))
    store.reset("m")
    data = clustered(500)
    store.add(np.arange(500), data)
    store.remove(np.arange(0, 500, 2))
    store.add(np.array([1]), data[0:1])  # replaced: the old row must never come back
    assert store._dirty and len(store) == 250
    hits = store.search(data[0:1], k=5)[0]
    assert hits[0][0] == 1 and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(i % 2 == 1 for i, _ in hits)
    assert not store._dirty and stored_ids(store._index).size == 250
    store.remove(np.array([1]))
    store.save()
    loaded = FaissVectorStore(tmp_path, "cosine", FaissIndexOptions(kind="hnsw", ef_search=20))
    assert loaded.load() is True
    assert is_hnsw(loaded._index) and len(loaded) == 249 and not loaded._dirty


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_approximate_indexes_keep_recall_high(tmp_path, kind, metric):
    options = FaissIndexOptions(kind=kind, ivf_min_train=1000)
    store = FaissVectorStore(tmp_path, metric, options)
    store.reset("m")
    data = clustered(5000)
    store.add(np.arange(5000), data)
    store.save()
    queries = clustered(100, seed=1)
    assert recall_at_10(store, data, queries) >= 0.9


def test_a_few_queries_search_on_the_calling_thread_alone():
    """Below the BLAS threshold a search runs single-threaded (a thread team only costs there);
    the thread's setting comes back after, batches keep the team, other threads are untouched."""
    faiss = load_faiss()
    before = faiss.omp_get_max_threads()
    elsewhere: list[int] = []
    with threads_for(1):
        assert faiss.omp_get_max_threads() == 1
        other = threading.Thread(target=lambda: elsewhere.append(faiss.omp_get_max_threads()))
        other.start()
        other.join()
    assert faiss.omp_get_max_threads() == before and elsewhere == [before]
    with threads_for(BLAS_THRESHOLD):
        assert faiss.omp_get_max_threads() == before


def test_hnsw_over_8bit_codes_scores_close_to_exact_and_rebuilds_after_removal():
    data = clustered(2000, dim=64)
    options = FaissIndexOptions(kind="hnsw", hnsw_codes="sq8", ef_search=128)
    store = FaissVectorStore(None, "cosine", options)
    store.add(np.arange(3), data[:3])  # the codes' value range is learnt from the first vectors
    store.add(np.arange(3, 2000), data[3:])
    assert recall_at_10(store, data, data[:50]) >= 0.85
    queries = data[:20]
    for query, row in zip(queries, store.within(queries, 0.7, 50), strict=True):
        assert row, "every query has itself within the radius"
        exact = data[[i for i, _ in row]] @ query
        # 64-d: 8-bit steps of ~0.01 per component (1280-d embeddings: ~1e-3 off, see wiring)
        assert np.abs(np.array([s for _, s in row]) - exact).max() < 1e-2

    store.remove(np.arange(100))  # an HNSW graph cannot drop rows: rebuilt from its codes
    found = store.search(data[:10], k=5)
    assert all(i >= 100 for row in found for i, _ in row) and len(store) == 1900
    assert recall_at_10(store, data, data[200:250]) >= 0.85
    with pytest.raises(ValueError, match="HNSW codes"):
        FaissIndexOptions(kind="hnsw", hnsw_codes="pq")

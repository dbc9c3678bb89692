"""Filtered search (IdFilter) and range search (`within`) on every adapter and both metrics.

A filter that keeps 1% of the vectors still returns a full top-K (the filter runs inside the
store, not on its top-K), and the answer is the exact top-K among the allowed ids; exclusion
filters never return an excluded id. Range search returns exactly the stored vectors within the
radius (capped at k, best first)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.domain.search_filters import IdFilter
from app.infrastructure.vector_store.faiss_store import FaissIndexOptions, FaissVectorStore
from tests.infrastructure.vector_store.test_contract import FACTORIES

N, DIM, K = 2000, 16, 10
# the default HNSW search depth: the filtered path must not rely on an exhaustive graph walk
DEFAULT_HNSW = FaissIndexOptions(kind="hnsw")
STORES = {**FACTORIES, "faiss-hnsw-default": lambda d, m: FaissVectorStore(d, m, DEFAULT_HNSW)}


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _exact(queries, stored, ids, k, metric):
    scores = (
        queries @ stored.T
        if metric == "cosine"
        else -((queries[:, None, :] - stored[None]) ** 2).sum(-1)
    )
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [ids[row].tolist() for row in order]


@pytest.fixture(scope="module", params=["cosine", "l2"])
def filled(request, tmp_path_factory):
    """Each store kind holding the same N vectors (ids 100..), per metric."""
    metric = request.param
    vectors = _vectors(N)
    ids = np.arange(100, 100 + N, dtype=np.int64)
    stores = {}
    for kind, make in STORES.items():
        store = make(Path(tmp_path_factory.mktemp(kind)), metric)
        store.reset("stamp")
        store.add(ids, vectors)
        stores[kind] = store
    return metric, ids, vectors, stores


@pytest.mark.parametrize("kind", list(STORES))
def test_a_filter_keeping_one_percent_returns_the_exact_full_top_k(filled, kind):
    metric, ids, vectors, stores = filled
    allowed = ids[::100]  # 20 of 2000
    queries = _vectors(5, seed=1)
    rows = stores[kind].search(queries, K, IdFilter.of(allowed))
    keep = np.isin(ids, allowed)
    expected = _exact(queries, vectors[keep], ids[keep], K, metric)
    assert [[i for i, _ in row] for row in rows] == expected


@pytest.mark.parametrize("kind", list(STORES))
def test_an_exclusion_filter_never_returns_an_excluded_id(filled, kind):
    _metric, ids, vectors, stores = filled
    queries = vectors[:5]  # each query's own vector is its best hit ...
    excluded = ids[:5]  # ... and is excluded
    rows = stores[kind].search(queries, K, IdFilter.of(excluded, exclude=True))
    assert all(len(row) == K for row in rows)
    assert not {i for row in rows for i, _ in row} & set(excluded.tolist())


@pytest.mark.parametrize("kind", list(STORES))
def test_range_search_returns_the_vectors_within_the_radius(filled, kind):
    metric, ids, vectors, stores = filled
    queries = vectors[:20]
    radius = 0.6 if metric == "cosine" else 0.8  # squared L2 of unit vectors: 2 - 2 cos
    rows = stores[kind].within(queries, radius, 50)
    sims = queries @ vectors.T
    for q, row in enumerate(rows):
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=metric == "cosine")
        want = sims[q] >= radius if metric == "cosine" else 2 - 2 * sims[q] <= radius
        assert {i for i, _ in row} == set(ids[want].tolist())


@pytest.mark.parametrize("kind", ["faiss-hnsw", "faiss-hnsw-default"])
def test_hnsw_range_search_answers_far_queries_empty_and_near_ones_in_full(filled, kind):
    """HNSW range search walks shallowly first: queries far from everything come back empty,
    the near ones mixed among them still get every vector within the radius."""
    metric, ids, vectors, stores = filled
    far = _vectors(10, seed=7)  # random directions: most have nothing within the radius
    queries = np.concatenate([far[:5], vectors[:3], far[5:]])
    radius = 0.9 if metric == "cosine" else 0.2  # squared L2 of unit vectors: 2 - 2 cos
    rows = stores[kind].within(queries, radius, 50)
    sims = queries @ vectors.T
    want = sims >= radius if metric == "cosine" else 2 - 2 * sims <= radius
    assert sum(not w.any() for w in want) >= 5 and all(w.any() for w in want[5:8])
    assert [{i for i, _ in row} for row in rows] == [set(ids[w].tolist()) for w in want]


@pytest.mark.parametrize("kind", ["faiss", "faiss-hnsw"])
def test_filters_and_ranges_work_after_faiss_torch_utils_patched_search(tmp_path, kind):
    """pytorch-metric-learning imports faiss.contrib.torch_utils, which replaces Index.search
    by a version without `params`: a process that fine-tuned must still filter."""
    import faiss.contrib.torch_utils  # noqa: F401 - the patch itself

    store = STORES[kind](tmp_path, "cosine")
    store.reset("stamp")
    vectors = _vectors(300)
    store.add(np.arange(300), vectors)
    rows = store.search(vectors[:2], 3, IdFilter.of([7, 8, 9, 10], exclude=True))
    assert all(len(row) == 3 and not {i for i, _ in row} & {7, 8, 9, 10} for row in rows)
    assert store.within(vectors[:2], 0.99, 5)[0][0][0] == 0


@pytest.mark.parametrize("kind", ["faiss-ivf", "faiss-hnsw-default"])
@pytest.mark.parametrize("share", [100, 10, 2])
def test_approximate_indexes_walk_under_a_filter_and_still_fill_top_k(
    filled, kind, share, monkeypatch
):
    """Above the exact-search limit HNSW / IVF search with the selector; a short answer is
    completed exactly, so every query gets K allowed hits."""
    from app.infrastructure.vector_store import faiss_store

    monkeypatch.setattr(faiss_store, "EXACT_FILTER_LIMIT", 0)
    _metric, ids, _unused, stores = filled
    allowed = ids[::share]
    rows = stores[kind].search(_vectors(20, seed=3), K, IdFilter.of(allowed))
    assert all(len(row) == K for row in rows)
    assert {i for row in rows for i, _ in row} <= set(allowed.tolist())

"""VectorStore on FAISS: exact flat search (default), or approximate IVF / HNSW indexes.

See faiss_indexes.py for the index kinds. faiss is imported on first use, never at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from app.domain.scoring import top_k
from app.domain.search_filters import IdFilter
from app.infrastructure.files import Writer
from app.infrastructure.vector_store.base import BaseVectorStore, Hits, Payloads, last_occurrence
from app.infrastructure.vector_store.faiss_indexes import (
    PROBE_MARGIN,
    FaissIndexOptions,
    add_rows,
    auto_nlist,
    check_loaded,
    id_selector,
    is_hnsw,
    is_ivf,
    load_faiss,
    new_flat,
    new_hnsw,
    probe_params,
    same_codes,
    search_params,
    search_with,
    stored_ids,
    stored_rows,
    threads_for,
    train_ivf,
    tune,
)
from app.infrastructure.vector_store.memory_store import exact_search

__all__ = ["FaissIndexOptions", "FaissVectorStore", "load_faiss"]

logger = logging.getLogger(__name__)
INDEX_FILE = "index.bin"
EXACT_FILTER_LIMIT = 2_000  # HNSW / IVF: a filter keeping at most this many is searched exactly


class FaissVectorStore(BaseVectorStore):
    """A FAISS index keyed by int64 ids, persisted generationally under `directory`."""

    kind = "faiss-flat"
    _state = ("_index", "_members", "_dirty")

    def __init__(
        self, directory: Path, metric: str = "cosine", options: FaissIndexOptions | None = None
    ) -> None:
        super().__init__(directory, metric)
        self.options = options or FaissIndexOptions()
        self.kind = f"faiss-{self.options.kind}"
        self._index: Any = None
        self._members: set[int] = set()
        self._dirty = False  # HNSW rows of removed or replaced ids still in the graph

    def ids(self) -> np.ndarray:
        with self._lock:
            if self._index is None:
                return np.empty(0, dtype=np.int64)
            if self._dirty or is_ivf(self._index):
                return np.sort(np.fromiter(self._members, np.int64, len(self._members)))
            return stored_ids(self._index)

    def __len__(self) -> int:
        return len(self._members)

    def _clear(self) -> None:
        self._index = None
        self._members = set()
        self._dirty = False

    def _new_index(self, dim: int) -> Any:
        if self.options.kind == "hnsw":
            return new_hnsw(dim, self.metric, self.options)
        return new_flat(dim, self.metric)  # IVF starts flat and is trained once big enough

    def _add(self, ids: np.ndarray, vectors: np.ndarray, payloads: Payloads = None) -> None:
        if self._index is None:
            self._index = self._new_index(vectors.shape[1])
        self._drop([i for i in ids.tolist() if i in self._members])
        add_rows(self._index, vectors, ids)
        self._members.update(ids.tolist())

    def _remove(self, ids: np.ndarray) -> None:
        present = [i for i in ids.tolist() if i in self._members]
        self._drop(present)
        self._members.difference_update(present)

    def _drop(self, present: list[int]) -> None:
        """Take rows out of the index (HNSW cannot: it is rebuilt before its next use)."""
        if not present:
            return
        if is_hnsw(self._index):
            self._dirty = True
        else:  # remove_ids rebuilds IndexIDMap2's reverse map: only call it when needed
            self._index.remove_ids(np.asarray(present, dtype=np.int64))

    def _settle(self) -> None:
        if self._dirty:
            self._rebuild_graph()
        if self._ivf_due():
            self._train()

    def _rebuild_graph(self) -> None:
        ids, vectors = last_occurrence(*stored_rows(self._index))
        keep = np.isin(ids, np.fromiter(self._members, np.int64, len(self._members)))
        index = new_hnsw(self._index.d, self.metric, self.options)
        same_codes(index, self._index)
        add_rows(index, np.ascontiguousarray(vectors[keep]), ids[keep])
        self._index, self._dirty = index, False

    def _ivf_due(self) -> bool:
        count = len(self._members)
        if self.options.kind != "ivf" or count < max(self.options.ivf_min_train, 1):
            return False
        if not is_ivf(self._index):
            return True
        return not self.options.nlist and auto_nlist(count) >= 2 * self._index.nlist

    def _train(self) -> None:
        ids, vectors = stored_rows(self._index)
        logger.info("training an IVF index on %d vectors", ids.size)
        self._index = train_ivf(ids, np.ascontiguousarray(vectors), self.metric, self.options)

    def _missing(self, ids: np.ndarray) -> np.ndarray:
        return np.unique([i for i in ids.tolist() if i not in self._members]).astype(np.int64)

    def _fetch(self, ids: np.ndarray) -> np.ndarray:
        return self._index.reconstruct_batch(ids)

    def _checked_search(
        self, queries: np.ndarray, k: int, run: Callable[[np.ndarray, int], Hits]
    ) -> Hits:
        with threads_for(len(np.atleast_2d(queries))):  # a few queries: this thread alone
            return super()._checked_search(queries, k, run)

    def _search(self, queries: np.ndarray, k: int) -> Hits:
        return _rows(*self._index.search(queries, k))

    def _search_where(self, queries: np.ndarray, k: int, where: IdFilter) -> Hits:
        """The filter runs inside the search (IDSelector). HNSW / IVF: a filter that keeps few
        vectors is searched exactly among them, and a query whose graph or list walk comes back
        with fewer than k allowed hits is answered exactly too, so top-K is always full."""
        if where.exclude or self.options.kind == "flat":
            return self._selected(queries, k, where, 1.0)
        allowed = np.asarray([i for i in where.ids.tolist() if i in self._members], np.int64)
        if allowed.size <= EXACT_FILTER_LIMIT:
            return self._exact_among(queries, k, allowed)
        rows = self._selected(queries, k, where, allowed.size / max(len(self), 1))
        short = [n for n, row in enumerate(rows) if len(row) < min(k, allowed.size)]
        if short:
            for n, row in zip(short, self._exact_among(queries[short], k, allowed), strict=True):
                rows[n] = row
        return rows

    def _selected(self, queries: np.ndarray, k: int, where: IdFilter, kept: float) -> Hits:
        selector, _keep = id_selector(where.ids, where.exclude)
        params = search_params(self._index, selector, k, self.options, kept)
        return _rows(*search_with(self._index, queries, k, params))

    def _exact_among(self, queries: np.ndarray, k: int, allowed: np.ndarray) -> Hits:
        vectors = self._index.reconstruct_batch(allowed) if allowed.size else None
        return exact_search(queries, k, allowed, vectors, self.metric)

    def _within(self, queries: np.ndarray, radius: float, k: int) -> Hits:
        """Flat: FAISS range search, cut to the best k. HNSW: a shallow walk for the nearest
        first; only the queries it finds near the radius get the full k-NN walk, cut at the
        radius (most queries have nothing near: they cost a fraction). IVF: k-NN, cut."""
        if is_hnsw(self._index):
            return self._hnsw_within(queries, radius, k)
        if self.options.kind != "flat" or is_ivf(self._index):
            return super()._within(queries, radius, k)
        lims, scores, found = self._index.range_search(queries, radius)
        hits: Hits = []
        for start, end in zip(lims[:-1].tolist(), lims[1:].tolist(), strict=True):
            best = start + top_k(scores[start:end], k, self.higher_is_better)
            hits.append(list(zip(found[best].tolist(), scores[best].tolist(), strict=True)))
        return hits

    def _hnsw_within(self, queries: np.ndarray, radius: float, k: int) -> Hits:
        sign = 1.0 if self.higher_is_better else -1.0
        nearest, _ = search_with(self._index, queries, 1, probe_params())
        close = np.flatnonzero(sign * nearest[:, 0] >= sign * radius - PROBE_MARGIN)
        hits: Hits = [[] for _ in range(len(queries))]
        if close.size:
            full = super()._within(queries[close], radius, k)
            for n, row in zip(close.tolist(), full, strict=True):
                hits[n] = row
        return hits

    def _writers(self) -> dict[str, Writer]:
        index = self._index

        def write(handle: BinaryIO) -> None:
            faiss = load_faiss()
            faiss.write_index(index, faiss.PyCallbackIOWriter(handle.write))

        return {INDEX_FILE: write}

    def _read(self, files: dict[str, Path], dim: int) -> None:
        faiss = load_faiss()
        index = faiss.read_index(str(files[INDEX_FILE]))
        try:
            check_loaded(index, self.options.kind, self.metric, dim)
        except ValueError as exc:
            raise ValueError(f"{files[INDEX_FILE].name}: {exc}") from None
        tune(index, self.options)
        ids = stored_ids(index)
        self._index = index
        self._members = set(ids.tolist())
        self._dirty = len(self._members) != ids.size  # an HNSW graph saved with stale rows


def _rows(scores: np.ndarray, found: np.ndarray) -> Hits:
    return [
        [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i != -1]
        for row_ids, row_scores in zip(found.tolist(), scores.tolist(), strict=True)
    ]

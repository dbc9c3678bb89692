"""VectorStore in plain numpy: exact search by matrix product, persisted as .npy (never pickle).

With `directory=None` it lives in memory only: `save()` does nothing and `load()` returns False.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np

from app.domain.scoring import top_k
from app.domain.search_filters import IdFilter
from app.infrastructure.files import Writer
from app.infrastructure.vector_store.base import BaseVectorStore, Hits, Payloads

IDS_FILE = "ids.npy"
VECTORS_FILE = "vectors.npy"
QUERY_BLOCK = 256  # queries scored at once: bounds the (queries x size) score matrix


class MemoryVectorStore(BaseVectorStore):
    """Ids and float32 rows in growable numpy buffers, with an id -> row map."""

    kind = "memory"
    _state = ("_ids", "_vectors", "_rows", "_size")

    def __init__(self, directory: Path | None = None, metric: str = "cosine") -> None:
        super().__init__(directory, metric)
        self._clear()

    def ids(self) -> np.ndarray:
        with self._lock:
            return self._ids[: self._size].copy()

    def __len__(self) -> int:
        return self._size

    def _clear(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._vectors = np.empty((0, 0), dtype=np.float32)
        self._rows: dict[int, int] = {}
        self._size = 0

    def _add(self, ids: np.ndarray, vectors: np.ndarray, payloads: Payloads = None) -> None:
        if self._size == 0:  # the first add after a reset fixes the dimension
            self._ids = np.empty(0, dtype=np.int64)
            self._vectors = np.empty((0, vectors.shape[1]), dtype=np.float32)
        rows = np.fromiter((self._rows.get(i, -1) for i in ids.tolist()), np.int64, ids.size)
        known = rows >= 0
        self._vectors[rows[known]] = vectors[known]
        new_ids, new_vectors = ids[~known], vectors[~known]
        self._reserve(self._size + new_ids.size)
        end = self._size + new_ids.size
        self._ids[self._size : end] = new_ids
        self._vectors[self._size : end] = new_vectors
        self._rows.update(zip(new_ids.tolist(), range(self._size, end), strict=True))
        self._size = end

    def _reserve(self, needed: int) -> None:
        """Grow the buffers geometrically so many small adds stay linear overall."""
        capacity = self._ids.shape[0]
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity, 64)
        ids = np.empty(capacity, dtype=np.int64)
        vectors = np.empty((capacity, self._vectors.shape[1]), dtype=np.float32)
        ids[: self._size] = self._ids[: self._size]
        vectors[: self._size] = self._vectors[: self._size]
        self._ids, self._vectors = ids, vectors

    def _remove(self, ids: np.ndarray) -> None:
        drop = [self._rows[i] for i in ids.tolist() if i in self._rows]
        if not drop:
            return
        keep = np.ones(self._size, dtype=bool)
        keep[drop] = False
        self._set(self._ids[: self._size][keep], self._vectors[: self._size][keep])

    def _set(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._size = self._ids.shape[0]
        self._rows = dict(zip(self._ids.tolist(), range(self._size), strict=True))

    def _missing(self, ids: np.ndarray) -> np.ndarray:
        return np.unique([i for i in ids.tolist() if i not in self._rows]).astype(np.int64)

    def _fetch(self, ids: np.ndarray) -> np.ndarray:
        return self._vectors[[self._rows[i] for i in ids.tolist()]]

    def _search(self, queries: np.ndarray, k: int) -> Hits:
        return exact_search(
            queries, k, self._ids[: self._size], self._vectors[: self._size], self.metric
        )

    def _search_where(self, queries: np.ndarray, k: int, where: IdFilter) -> Hits:
        keep = where.allows(self._ids[: self._size])
        ids, stored = self._ids[: self._size][keep], self._vectors[: self._size][keep]
        return exact_search(queries, k, ids, stored, self.metric)

    def _writers(self) -> dict[str, Writer]:
        # save() runs the writers at once, under the lock: views of the buffers are enough
        ids, vectors = self._ids[: self._size], self._vectors[: self._size]
        return {IDS_FILE: _npy_writer(ids), VECTORS_FILE: _npy_writer(vectors)}

    def _read(self, files: dict[str, Path], dim: int) -> None:
        ids = np.load(files[IDS_FILE], allow_pickle=False)
        vectors = np.load(files[VECTORS_FILE], allow_pickle=False)
        if ids.ndim != 1 or vectors.shape != (ids.shape[0], dim):
            raise ValueError(f"saved shapes {ids.shape} and {vectors.shape} do not fit dim {dim}")
        self._set(ids, vectors)


def _npy_writer(array: np.ndarray) -> Writer:
    def write(handle: BinaryIO) -> None:
        np.save(handle, array, allow_pickle=False)

    return write


def exact_search(
    queries: np.ndarray, k: int, ids: np.ndarray, stored: np.ndarray, metric: str
) -> Hits:
    """Exact k-NN of prepared `queries` among `stored` rows (keyed by `ids`), best first."""
    if ids.size == 0:
        return [[] for _ in range(queries.shape[0])]
    sq_norms = np.einsum("ij,ij->i", stored, stored) if metric == "l2" else None
    hits: Hits = []
    for start in range(0, queries.shape[0], QUERY_BLOCK):
        block = queries[start : start + QUERY_BLOCK]
        scores = block @ stored.T
        if sq_norms is not None:  # squared L2: |q|^2 + |v|^2 - 2 q.v, clipped at 0
            q_norms = np.einsum("ij,ij->i", block, block)[:, None]
            scores = np.maximum(q_norms + sq_norms[None, :] - 2.0 * scores, 0.0)
        for row in scores:
            best = top_k(row, k, higher_is_better=metric == "cosine")
            hits.append(list(zip(ids[best].tolist(), row[best].tolist(), strict=True)))
    return hits

"""VectorStore on FAISS: exact search with IndexIDMap2 over IndexFlatIP (cosine) or IndexFlatL2.

faiss is imported on first use, never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from app.domain.errors import BackendUnavailable
from app.infrastructure.files import Writer
from app.infrastructure.vector_store.base import BaseVectorStore, Hits

if TYPE_CHECKING:
    import faiss as faiss_module

INDEX_FILE = "index.bin"
# faiss 1.15 switches to BLAS only from 128,000 queries; batches of a few queries are far faster
# with BLAS (100 queries x 100k: 615 ms -> 82 ms, see DEPENDENCIES.md).
BLAS_THRESHOLD = 8
_faiss: Any = None


def load_faiss() -> faiss_module:
    """Import faiss once, tuning its global BLAS threshold for batched queries."""
    global _faiss  # noqa: PLW0603 - a lazily imported module, set once
    if _faiss is None:
        try:
            import faiss
        except ImportError as exc:
            raise BackendUnavailable(
                f"faiss is not installed ({exc}): pip install faiss-cpu"
            ) from exc
        faiss.cvar.distance_compute_blas_threshold = BLAS_THRESHOLD
        _faiss = faiss
    return _faiss


class FaissVectorStore(BaseVectorStore):
    """Exact FAISS index keyed by int64 ids, persisted generationally under `directory`."""

    kind = "faiss-flat"

    def __init__(self, directory: Path, metric: str = "cosine") -> None:
        super().__init__(directory, metric)
        self._index: Any = None
        self._members: set[int] = set()

    def ids(self) -> np.ndarray:
        with self._lock:
            if self._index is None:
                return np.empty(0, dtype=np.int64)
            return load_faiss().vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    def __len__(self) -> int:
        return len(self._members)

    def _clear(self) -> None:
        self._index = None
        self._members = set()

    def _new_index(self, dim: int) -> Any:
        faiss = load_faiss()
        flat = faiss.IndexFlatIP(dim) if self.metric == "cosine" else faiss.IndexFlatL2(dim)
        return faiss.IndexIDMap2(flat)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            self._index = self._new_index(vectors.shape[1])
        present = [i for i in ids.tolist() if i in self._members]
        if present:  # remove_ids rebuilds IndexIDMap2's reverse map: only call it when needed
            self._index.remove_ids(np.asarray(present, dtype=np.int64))
        self._index.add_with_ids(vectors, ids)
        self._members.update(ids.tolist())

    def _remove(self, ids: np.ndarray) -> None:
        present = [i for i in ids.tolist() if i in self._members]
        if present:
            self._index.remove_ids(np.asarray(present, dtype=np.int64))
            self._members.difference_update(present)

    def _search(self, queries: np.ndarray, k: int) -> Hits:
        scores, found = self._index.search(queries, k)
        return [
            [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if i != -1]
            for row_ids, row_scores in zip(found.tolist(), scores.tolist(), strict=True)
        ]

    def _contains(self, image_id: int) -> bool:
        return image_id in self._members

    def _get_vectors(self, ids: np.ndarray) -> np.ndarray:
        # IndexIDMap2 keeps an id -> row map, so reconstruction by id is exact and O(len(ids))
        return np.asarray(self._index.reconstruct_batch(ids), dtype=np.float32)

    def _writers(self) -> dict[str, Writer]:
        index = self._index

        def write(handle: BinaryIO) -> None:
            faiss = load_faiss()
            faiss.write_index(index, faiss.PyCallbackIOWriter(handle.write))

        return {INDEX_FILE: write}

    def _read(self, files: dict[str, Path], dim: int) -> None:
        faiss = load_faiss()
        index = faiss.read_index(str(files[INDEX_FILE]))
        expected = faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2
        if not isinstance(index, faiss.IndexIDMap2) or index.metric_type != expected:
            raise ValueError(f"{files[INDEX_FILE].name} is not a {self.metric} IndexIDMap2")
        if index.d != dim:
            raise ValueError(f"{files[INDEX_FILE].name} has dimension {index.d}, manifest {dim}")
        self._index = index
        self._members = set(self.ids().tolist())

"""What every vector store adapter shares: input validation, the model stamp and dimension,
generational persistence through a manifest, and `info()`.

Subclasses hold the vectors and implement the storage primitives (`_clear`, `_add`, `_remove`,
`_search`, `_contains`, `_get_vectors`, `_writers`, `_read`, `ids`, `__len__`); inputs reach them
validated and prepared.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from app.domain.errors import IndexNotReady, ModelMismatch
from app.domain.models import IndexInfo
from app.domain.scoring import l2_normalize
from app.infrastructure.files import GenerationalFiles, Manifest, Writer

METRICS = ("cosine", "l2")
Hits = list[list[tuple[int, float]]]


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    return metric


def as_ids(ids: np.ndarray) -> np.ndarray:
    """A 1-d int64 array of ids (integers only: floats are refused, not truncated)."""
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"ids must be a 1-d array, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.int64)


def as_matrix(vectors: np.ndarray, what: str = "vectors") -> np.ndarray:
    """A C-contiguous float32 2-d array of finite values (a 1-d array counts as one row)."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"{what} must be a 2-d array (rows, dim), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return np.ascontiguousarray(array)


def last_occurrence(ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop earlier duplicates of an id within one batch, so the last vector given wins."""
    _, first_in_reversed = np.unique(ids[::-1], return_index=True)
    if first_in_reversed.size == ids.size:
        return ids, vectors
    keep = np.sort(ids.size - 1 - first_in_reversed)
    return ids[keep], vectors[keep]


class BaseVectorStore:
    """Template for VectorStore adapters; thread-safe through one re-entrant lock."""

    kind: ClassVar[str]

    def __init__(self, directory: Path | None, metric: str = "cosine") -> None:
        self.metric = check_metric(metric)
        self.directory = Path(directory) if directory is not None else None
        self._files = GenerationalFiles(self.directory) if self.directory is not None else None
        self._stamp: str | None = None
        self._dim: int | None = None
        self._lock = threading.RLock()

    # ---- the port ----------------------------------------------------------------------------

    @property
    def model_stamp(self) -> str | None:
        return self._stamp

    @property
    def dim(self) -> int | None:
        return self._dim

    def reset(self, model_stamp: str) -> None:
        with self._lock:
            self._clear()
            self._dim = None
            self._stamp = model_stamp

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = as_ids(ids)
        vectors = as_matrix(vectors)
        if vectors.shape[0] != ids.shape[0]:
            raise ValueError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if ids.size == 0:
            return
        with self._lock:
            self._check_dim(vectors.shape[1], "vectors")
            ids, vectors = last_occurrence(ids, vectors)
            self._add(ids, self._prepare(vectors))
            self._dim = vectors.shape[1]

    def remove(self, ids: np.ndarray) -> None:
        ids = as_ids(ids)
        with self._lock:
            if ids.size and len(self):
                self._remove(np.unique(ids))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = as_ids(ids)
        with self._lock:
            missing = [i for i in ids.tolist() if not self._contains(i)]
            if missing:
                raise KeyError(f"ids not in the index: {missing[:10]}")
            if ids.size == 0:
                return np.empty((0, self._dim or 0), dtype=np.float32)
            return self._get_vectors(ids)

    def search(self, queries: np.ndarray, k: int) -> Hits:
        queries = as_matrix(queries, "queries")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        with self._lock:
            self._check_dim(queries.shape[1], "queries")
            k = min(k, len(self))
            if k == 0:
                return [[] for _ in range(queries.shape[0])]
            return self._search(self._prepare(queries), k)

    def save(self) -> None:
        if self._files is None:
            return
        with self._lock:
            self._files.commit(self._writers() if len(self) else {}, self._meta())

    def load(self) -> bool:
        if self._files is None:
            return False
        with self._lock, self._files.reading():
            try:
                manifest = self._files.read()
            except OSError as exc:
                raise self._damaged(exc) from exc
            if manifest is None:
                return False
            self._check_compatible(manifest.meta)
            self._load_manifest(manifest)
            return True

    def info(self) -> IndexInfo:
        with self._lock:
            on_disk = self._files.bytes_on_disk() if self._files is not None else 0
            return IndexInfo(self.kind, len(self), self._dim, self.metric, self._stamp, on_disk)

    # ---- shared helpers ----------------------------------------------------------------------

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "cosine"

    def _prepare(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine works on unit vectors: normalise defensively (a no-op for normalised input)."""
        return l2_normalize(vectors) if self.metric == "cosine" else vectors

    def _check_dim(self, dim: int, what: str) -> None:
        if self._dim is not None and dim != self._dim:
            raise ModelMismatch(
                f"{what} have dimension {dim} but the index holds dimension {self._dim} "
                f"(built with {self._stamp or 'an unknown model'}): run `rebuild --full`"
            )

    def _meta(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "model_stamp": self._stamp,
            "dim": self._dim,
            "metric": self.metric,
            "count": len(self),
        }

    def _check_compatible(self, meta: dict[str, Any]) -> None:
        where = self.directory
        for key, configured in (("kind", self.kind), ("metric", self.metric)):
            saved = meta.get(key)
            if saved != configured:
                raise ModelMismatch(
                    f"index in {where} was saved with {key} {saved!r} but {key} {configured!r} is "
                    "configured: run `rebuild --full`"
                )

    def _load_manifest(self, manifest: Manifest) -> None:
        meta = manifest.meta
        count = int(meta.get("count") or 0)
        dim = meta.get("dim")
        self.reset(meta.get("model_stamp"))
        try:
            if count:
                self._read(manifest.files, int(dim))
            if len(self) != count:
                raise ValueError(f"manifest says {count} vectors, files hold {len(self)}")
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            self._clear()
            self._stamp = None  # an empty store must not pass for a current one
            raise self._damaged(exc) from exc
        self._dim = int(dim) if dim is not None else None

    def _damaged(self, exc: Exception) -> IndexNotReady:
        return IndexNotReady(f"index in {self.directory} is damaged ({exc}): run `rebuild --full`")

    # ---- storage primitives ------------------------------------------------------------------

    def ids(self) -> np.ndarray:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace; ids are unique within the batch, vectors prepared for the metric."""
        raise NotImplementedError

    def _remove(self, ids: np.ndarray) -> None:
        """Remove the unique `ids` that are present; unknown ids are ignored."""
        raise NotImplementedError

    def _search(self, queries: np.ndarray, k: int) -> Hits:
        """1 <= k <= len(self); queries prepared for the metric."""
        raise NotImplementedError

    def _contains(self, image_id: int) -> bool:
        raise NotImplementedError

    def _get_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Stored rows of the (present, non-empty) `ids`, in order, as a new float32 array."""
        raise NotImplementedError

    def _writers(self) -> dict[str, Writer]:
        """Logical file name -> writer of the current (non-empty) state."""
        raise NotImplementedError

    def _read(self, files: dict[str, Path], dim: int) -> None:
        """Replace the (cleared) state with the saved files."""
        raise NotImplementedError

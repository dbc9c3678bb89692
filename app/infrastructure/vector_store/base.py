"""What every vector store adapter shares: input validation, the model stamp and dimension,
generational persistence through a manifest, and `info()`.

Subclasses hold the vectors and implement the storage primitives (`_clear`, `_add`, `_remove`,
`_search`, `_fetch`, `_writers`, `_read`, `ids`, `__len__`); inputs reach them validated and
prepared.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from app.disk_space import ensure_room
from app.domain.errors import IndexNotReady, ModelMismatch
from app.domain.models import IndexInfo
from app.domain.scoring import l2_normalize
from app.domain.search_filters import IdFilter
from app.infrastructure.files import GenerationalFiles, Manifest, Writer
from app.infrastructure.vector_store.arrays import (
    Hits,
    Payloads,
    as_ids,
    as_matrix,
    check_metric,
    check_payloads,
    last_occurrence,
    last_rows,
    unknown_ids,
)
from app.infrastructure.vector_store.following import FollowsSaves

__all__ = ["BaseVectorStore", "Hits", "Payloads", "last_occurrence", "unknown_ids"]


class BaseVectorStore(FollowsSaves):
    """Template for VectorStore adapters; thread-safe through one re-entrant lock."""

    kind: ClassVar[str]
    # the attributes holding the vectors: `_clear` and `_read` rebind them, never change the
    # objects in place, so a load that fails can put the ones it found back
    _state: ClassVar[tuple[str, ...]] = ()

    def __init__(self, directory: Path | None, metric: str = "cosine") -> None:
        self.metric = check_metric(metric)
        self.directory = Path(directory) if directory is not None else None
        self._files = GenerationalFiles(self.directory) if self.directory is not None else None
        self._stamp: str | None = None
        self._dim: int | None = None
        self._lock = threading.RLock()
        self.load_problem: str | None = None
        self._generation = 0  # the saved generation that memory holds (0: none)
        self._checked = None  # the manifest fingerprint last looked at
        self._failed = False  # whether the last load of the saved index failed

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

    def replace_all(
        self, model_stamp: str, ids: np.ndarray, vectors: np.ndarray, payloads: Payloads = None
    ) -> None:
        """`reset` and `add` as one step: a concurrent search waits, then sees all of it."""
        with self._lock:
            self.reset(model_stamp)
            self.add(ids, vectors, payloads)

    def add(self, ids: np.ndarray, vectors: np.ndarray, payloads: Payloads = None) -> None:
        ids = as_ids(ids)
        vectors = as_matrix(vectors)
        if vectors.shape[0] != ids.shape[0]:
            raise ValueError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        extra = check_payloads(payloads, ids.shape[0])
        if ids.size == 0:
            return
        with self._lock:
            self._check_dim(vectors.shape[1], "vectors")
            keep = last_rows(ids)
            if keep is not None:
                ids, vectors = ids[keep], vectors[keep]
                extra = None if extra is None else [extra[i] for i in keep.tolist()]
            self._add(ids, self._prepare(vectors), extra)
            self._dim = vectors.shape[1]

    def remove(self, ids: np.ndarray) -> None:
        ids = as_ids(ids)
        with self._lock:
            if ids.size and len(self):
                self._remove(np.unique(ids))

    def search(self, queries: np.ndarray, k: int, where: IdFilter | None = None) -> Hits:
        run = self._search if where is None else partial(self._search_where, where=where)
        return self._checked_search(queries, k, run)

    def within(self, queries: np.ndarray, radius: float, k: int) -> Hits:
        return self._checked_search(queries, k, lambda q, k_: self._within(q, float(radius), k_))

    def _checked_search(
        self, queries: np.ndarray, k: int, run: Callable[[np.ndarray, int], Hits]
    ) -> Hits:
        queries = as_matrix(queries, "queries")
        if k < 0:
            raise ValueError(f"k must be >= 0, got {k}")
        with self._lock:
            self._check_dim(queries.shape[1], "queries")
            self._settle()
            k = self._clamp_k(k)
            if k == 0:
                return [[] for _ in range(queries.shape[0])]
            return run(self._prepare(queries), k)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = as_ids(ids)
        with self._lock:
            missing = self._missing(ids)
            if missing.size:
                raise unknown_ids(missing)
            if ids.size == 0:
                return np.empty((0, self._dim or 0), dtype=np.float32)
            self._settle()
            return np.ascontiguousarray(self._fetch(ids), dtype=np.float32)

    def save(self) -> None:
        if self._files is None:
            return
        with self._lock:
            self._settle()
            # a new generation is written beside the old one: check the room first
            ensure_room(self._files.directory, len(self) * ((self._dim or 0) * 4 + 8))
            manifest = self._files.commit(self._writers() if len(self) else {}, self._meta())
            self._generation = manifest.generation
            self._failed = False
            self.load_problem = None

    def load(self) -> bool:
        if self._files is None:
            return False
        with self._lock, self._files.reading(), self.recording_problems():
            try:
                manifest = self._files.read()
            except OSError as exc:
                raise self._damaged(exc) from exc
            if manifest is None:
                return False
            self._check_compatible(manifest.meta)
            self._load_manifest(manifest)
            return True

    @contextmanager
    def recording_problems(self) -> Iterator[None]:
        """Around a load: remember why it failed (`load_problem`), or forget an earlier failure."""
        try:
            yield
        except (IndexNotReady, ModelMismatch) as exc:
            self.load_problem = str(exc)
            raise
        self.load_problem = None

    def info(self) -> IndexInfo:
        with self._lock:
            on_disk = self._files.bytes_on_disk() if self._files is not None else 0
            return IndexInfo(
                self.kind, len(self), self._dim, self.metric, self._stamp, on_disk,
                self.load_problem,
            )  # fmt: skip

    # ---- shared helpers ----------------------------------------------------------------------

    def _settle(self) -> None:
        """Bring derived structures up to date before they are searched or saved (a hook)."""

    def _clamp_k(self, k: int) -> int:
        return min(k, len(self))

    def _missing(self, ids: np.ndarray) -> np.ndarray:
        """The unique `ids` that are not stored."""
        return np.setdiff1d(ids, self.ids())

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
        """Swap in the saved generation whole; when it does not load, memory keeps what it held
        (a failed reload must not leave an empty index that a writer would then save)."""
        meta = manifest.meta
        count = int(meta.get("count") or 0)
        dim = meta.get("dim")
        held = {name: getattr(self, name) for name in ("_stamp", "_dim", *self._state)}
        self.reset(meta.get("model_stamp"))
        try:
            if count:
                self._read(manifest.files, int(dim))
            if len(self) != count:
                raise ValueError(f"manifest says {count} vectors, files hold {len(self)}")
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            for name, value in held.items():
                setattr(self, name, value)
            raise self._damaged(exc) from exc
        self._dim = int(dim) if dim is not None else None
        self._generation = manifest.generation

    def _damaged(self, exc: Exception) -> IndexNotReady:
        return IndexNotReady(f"index in {self.directory} is damaged ({exc}): run `rebuild --full`")

    # ---- storage primitives ------------------------------------------------------------------

    def ids(self) -> np.ndarray:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def _add(self, ids: np.ndarray, vectors: np.ndarray, payloads: Payloads = None) -> None:
        """Insert or replace; ids are unique within the batch, vectors prepared for the metric;
        `payloads` (aligned with ids, or None) may be ignored by stores that do not filter."""
        raise NotImplementedError

    def _remove(self, ids: np.ndarray) -> None:
        """Remove the unique `ids` that are present; unknown ids are ignored."""
        raise NotImplementedError

    def _search(self, queries: np.ndarray, k: int) -> Hits:
        """1 <= k <= len(self); queries prepared for the metric."""
        raise NotImplementedError

    def _search_where(self, queries: np.ndarray, k: int, where: IdFilter) -> Hits:
        raise NotImplementedError  # `_search` among the ids `where` allows

    def _within(self, queries: np.ndarray, radius: float, k: int) -> Hits:
        """Range search; here the k nearest cut at `radius` (exact stores may do better)."""
        sign = 1.0 if self.higher_is_better else -1.0
        return [
            [h for h in row if sign * h[1] >= sign * radius] for row in self._search(queries, k)
        ]

    def _fetch(self, ids: np.ndarray) -> np.ndarray:
        """Rows of `ids` (all present, at least one) in that order."""
        raise NotImplementedError

    def _writers(self) -> dict[str, Writer]:
        """Logical file name -> writer of the current (non-empty) state."""
        raise NotImplementedError

    def _read(self, files: dict[str, Path], dim: int) -> None:
        """Replace the (cleared) state with the saved files."""
        raise NotImplementedError

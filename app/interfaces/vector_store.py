"""Port: a store of embeddings keyed by repository image ids, searchable by similarity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from app.domain.models import IndexInfo, VectorPayload
from app.domain.search_filters import IdFilter


class VectorStore(Protocol):
    """Contract.

    - Ids are repository image ids (int64, >= 0). `add` replaces the vector of an id already
      present.
    - Vectors are float32 rows of one dimension, fixed by the first `add` after `reset`.
    - `add(ids, vectors, payloads)` may carry one VectorPayload per id (product, class, crop box).
      Stores that filter on payloads (Qdrant) keep them; the others ignore them. Searching never
      depends on payloads.
    - `search(queries, k, where)` with an IdFilter searches only among the ids it allows (done
      inside the store, so a filter that keeps few vectors still returns up to k of them).
    - `within(queries, radius, k)` is a range search: per query row, up to k `(id, score)` pairs
      whose score is at least as good as `radius` (cosine >= radius; l2 <= radius), best first.
    - `search(queries, k)` returns, per query row, up to k `(id, score)` pairs, best first. Scores
      are cosine similarity (higher is better) for metric "cosine" and squared L2 distance
      (lower is better) for metric "l2". Approximate indexes (IVF, HNSW) may miss true neighbours.
    - `vectors(ids)` returns the stored rows of `ids`, in that order, as a (len(ids), dim) float32
      array (unit length for "cosine"); an id that is not stored raises UnknownIds, a KeyError
      (and a NotFound) naming it.
    - `model_stamp` records which model made the vectors; `reset(stamp)` empties the store for a
      new one.
    - File stores keep changes in memory until `save()`, which persists atomically: a crash never
      leaves a half-written index, the previous one stays loadable. Server stores (Qdrant) persist
      each call and `save()` makes the current collection the one that `load()` finds. `load()`
      reads the last saved state and returns False when nothing was saved yet.
    - `load_problem` says why the saved index could not be used (saved with another metric or
      kind, damaged, missing), from that failed `load()` until the next `load()` or `save()` that
      works; a failed `load()` keeps what the store held (empty at start-up, where "empty" would
      be the wrong thing to tell a user).
    - `refresh(force=False, must_load=False)` follows saves made elsewhere (another process,
      another store object on the same files): it loads the newest saved state when it is newer
      than the one held and returns True; cheap when nothing changed. `force` also drops unsaved
      changes. Readers call it before they answer: when the saved state does not load they keep
      serving what is held (a warning). Writers call it under the writer lock with `must_load`
      before they modify and save: then a saved state that does not load raises
      BackendUnavailable, so no change is ever saved over a newer index that was not read.
    """

    metric: str
    load_problem: str | None

    @property
    def model_stamp(self) -> str | None: ...

    def reset(self, model_stamp: str) -> None: ...

    def add(
        self,
        ids: np.ndarray,
        vectors: np.ndarray,
        payloads: Sequence[VectorPayload] | None = None,
    ) -> None: ...

    def replace_all(
        self,
        model_stamp: str,
        ids: np.ndarray,
        vectors: np.ndarray,
        payloads: Sequence[VectorPayload] | None = None,
    ) -> None:
        """`reset(model_stamp)` then `add(...)` as one step for concurrent searches."""

    def remove(self, ids: np.ndarray) -> None: ...

    def ids(self) -> np.ndarray: ...

    def vectors(self, ids: np.ndarray) -> np.ndarray: ...

    def __len__(self) -> int: ...

    def search(
        self, queries: np.ndarray, k: int, where: IdFilter | None = None
    ) -> list[list[tuple[int, float]]]: ...

    def within(
        self, queries: np.ndarray, radius: float, k: int
    ) -> list[list[tuple[int, float]]]: ...

    def save(self) -> None: ...

    def load(self) -> bool: ...

    def refresh(self, force: bool = False, must_load: bool = False) -> bool: ...

    def info(self) -> IndexInfo: ...

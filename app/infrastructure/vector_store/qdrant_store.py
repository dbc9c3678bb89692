"""VectorStore on Qdrant: a server or cluster (QDRANT_URL), or the local mode (QDRANT_PATH).

Layout, for the prefix P (QDRANT_COLLECTION_PREFIX):
- `P_<sha256(model stamp)[:12]>_<6 hex>`: one collection per model stamp and `reset`, so vectors of
  two models never mix. Point id = repository image id; payload: image_id, and product_id, label
  (class) and box (crop) when given. Cosine or Euclid distance from METRIC; HNSW parameters and
  on-disk vectors from the options; keyword payload indexes on product_id and label.
- `P_state`: one point naming the current collection, its model stamp, metric and dimension.

Every write is durable when the call returns (wait=True). `reset` starts a new collection beside the
current one (which keeps serving); `save` switches the state point to it (one point write, atomic),
then drops our other collections except the one it replaced, which replicas may still be reading.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from app.domain.errors import IndexNotReady, ModelMismatch
from app.domain.models import IndexInfo
from app.domain.search_filters import IdFilter
from app.infrastructure.vector_store.base import BaseVectorStore, Hits, Payloads, unknown_ids
from app.infrastructure.vector_store.qdrant_collections import (
    bytes_on_disk,
    create_collection,
    drop_collections,
    point_ids,
    retrieve_vectors,
)
from app.infrastructure.vector_store.qdrant_connection import (
    QdrantOptions,
    open_client,
    qdrant_models,
)
from app.infrastructure.vector_store.qdrant_schema import (
    check_prefix,
    collection_config,
    new_collection_name,
    payload_dict,
    payload_filter,
    read_state,
    remote,
    write_state,
)

__all__ = ["QdrantOptions", "QdrantVectorStore", "collection_config"]


class QdrantVectorStore(BaseVectorStore):
    """Vectors in Qdrant collections; see the module docstring for the layout."""

    kind = "qdrant"

    def __init__(self, options: QdrantOptions, metric: str = "cosine") -> None:
        super().__init__(None, metric)
        check_prefix(options.collection_prefix)
        self.options = options
        self._state_name = f"{options.collection_prefix}_state"
        self._collection: str | None = None  # the collection of the current stamp
        self._created = False  # whether it exists yet (it is made by the first add)
        self._client_: Any = None

    @property
    def collection(self) -> str:
        if self._collection is None:
            self._collection = new_collection_name(
                self.options.collection_prefix, self._stamp or ""
            )
        return self._collection

    # ---- the port ----------------------------------------------------------------------------

    def reset(self, model_stamp: str) -> None:
        with self._lock:
            self._stamp, self._dim = model_stamp, None
            self._collection = new_collection_name(self.options.collection_prefix, model_stamp)
            self._created = False

    @remote
    def save(self) -> None:
        with self._lock:
            state = read_state(self._client(), self._state_name)
            replaced = state.get("collection") if state else None
            write_state(
                self._client(),
                self._state_name,
                {
                    "collection": self.collection,
                    "model_stamp": self._stamp,
                    "metric": self.metric,
                    "dim": self._dim,
                },
            )
            prefix = self.options.collection_prefix
            drop_collections(self._client(), prefix, keep={self.collection, replaced})
            self.load_problem = None

    @remote
    def load(self) -> bool:
        with self._lock, self.recording_problems():
            state = read_state(self._client(), self._state_name)
            if state is None:
                return False
            if state.get("metric") != self.metric:
                raise ModelMismatch(
                    f"Qdrant collection {state.get('collection')} was saved with metric "
                    f"{state.get('metric')!r} but metric {self.metric!r} is configured: "
                    "run `rebuild --full`"
                )
            name, dim = state["collection"], state.get("dim")
            created = self._client().collection_exists(name)
            if dim is not None and not created:  # what is held keeps serving
                raise IndexNotReady(
                    f"Qdrant collection {name} is missing at {self.options.where}: "
                    "run `rebuild --full`"
                )
            self._collection, self._created = name, created
            self._stamp, self._dim = state.get("model_stamp"), dim
            return True

    @remote
    def refresh(self, force: bool = False, must_load: bool = False) -> bool:
        """Follow the state point: another store (a rebuild elsewhere) may have switched it.
        A state point that cannot be read, or that names a missing collection, raises for
        readers and writers alike; the collection held stays the one used."""
        with self._lock:
            state = read_state(self._client(), self._state_name)
            if state is None or (state.get("collection") == self._collection and not force):
                return False
            return self.load()

    def info(self) -> IndexInfo:
        with self._lock:
            return IndexInfo(
                self.kind,
                len(self),
                self._dim,
                self.metric,
                self._stamp,
                self._bytes_on_disk(),
                self.load_problem,
            )

    @remote
    def ids(self) -> np.ndarray:
        with self._lock:
            found = point_ids(self._client(), self.collection) if self._created else []
            return np.array(sorted(found), dtype=np.int64)

    @remote
    def __len__(self) -> int:
        with self._lock:
            if not self._created:
                return 0
            return int(self._client().count(self.collection, exact=True).count)

    # ---- Qdrant-only: payload filters --------------------------------------------------------

    def search_where(
        self,
        queries: np.ndarray,
        k: int,
        product_ids: Collection[str] | None = None,
        labels: Collection[str] | None = None,
    ) -> Hits:
        """`search` among the points whose payload matches (filtered inside Qdrant)."""
        where = payload_filter(product_ids, labels)
        return self._checked_search(queries, k, lambda q, k_: self._query(q, k_, where))

    @remote
    def remove_where(
        self, product_ids: Collection[str] | None = None, labels: Collection[str] | None = None
    ) -> int:
        """Delete the points of these products and/or classes; returns how many were deleted."""
        m = qdrant_models()
        where = payload_filter(product_ids, labels)
        with self._lock:
            if not self._created:
                return 0
            client = self._client()
            doomed = int(client.count(self.collection, count_filter=where, exact=True).count)
            selector = m.FilterSelector(filter=where)
            client.delete(self.collection, points_selector=selector, wait=True)
            return doomed

    # ---- storage primitives ------------------------------------------------------------------

    def _clear(self) -> None:
        self._collection, self._created = None, False

    def _clamp_k(self, k: int) -> int:
        return k  # Qdrant returns at most what it holds: no count request per search

    @remote
    def _add(self, ids: np.ndarray, vectors: np.ndarray, payloads: Payloads = None) -> None:
        m = qdrant_models()
        if not self._created:
            self._create(vectors.shape[1])
        step = max(1, self.options.batch_size)
        for start in range(0, ids.size, step):
            chunk = ids[start : start + step].tolist()
            batch = m.Batch(
                ids=chunk,
                vectors=vectors[start : start + step].tolist(),
                payloads=[
                    payload_dict(i, payloads[start + n] if payloads is not None else None)
                    for n, i in enumerate(chunk)
                ],
            )
            self._client().upsert(self.collection, points=batch, wait=True)

    @remote
    def _remove(self, ids: np.ndarray) -> None:
        m = qdrant_models()
        points = m.PointIdsList(points=ids.tolist())
        self._client().delete(self.collection, points_selector=points, wait=True)

    def _search(self, queries: np.ndarray, k: int) -> Hits:
        return self._query(queries, k, None)

    def _search_where(self, queries: np.ndarray, k: int, where: IdFilter) -> Hits:
        m = qdrant_models()
        condition = [m.HasIdCondition(has_id=where.ids.tolist())]
        if where.exclude:
            return self._query(queries, k, m.Filter(must_not=condition))
        return self._query(queries, k, m.Filter(must=condition))

    @remote
    def _query(self, queries: np.ndarray, k: int, where: Any) -> Hits:
        if not self._created:
            return [[] for _ in range(queries.shape[0])]
        m = qdrant_models()
        params = m.SearchParams(hnsw_ef=self.options.ef_search)
        requests = [
            m.QueryRequest(query=q.tolist(), limit=k, filter=where, params=params) for q in queries
        ]
        responses = self._client().query_batch_points(self.collection, requests=requests)
        squared = self.metric == "l2"  # Qdrant's Euclid is the plain distance
        return [
            [(int(p.id), float(p.score) ** 2 if squared else float(p.score)) for p in r.points]
            for r in responses
        ]

    def _missing(self, ids: np.ndarray) -> np.ndarray:
        return np.empty(0, dtype=np.int64)  # found out by the one retrieve in _fetch

    @remote
    def _fetch(self, ids: np.ndarray) -> np.ndarray:
        found = retrieve_vectors(self._client(), self.collection, ids) if self._created else {}
        missing = np.unique([i for i in ids.tolist() if i not in found])
        if missing.size:
            raise unknown_ids(missing)
        return np.asarray([found[i] for i in ids.tolist()], dtype=np.float32)

    # ---- helpers -----------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._client_ is None:
            self._client_ = open_client(self.options)
        return self._client_

    def _create(self, dim: int) -> None:
        create_collection(self._client(), self.collection, self.options, dim, self.metric)
        self._created = True

    def _bytes_on_disk(self) -> int:
        return bytes_on_disk(self.options, self.collection) if self._created else 0

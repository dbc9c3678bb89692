"""What img-recog keeps in Qdrant: collection names and settings, payloads, filters, state.

Plain functions over a qdrant-client; the store in qdrant_store.py puts them together.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from app.domain.models import VectorPayload
from app.infrastructure.vector_store.qdrant_connection import (
    QdrantOptions,
    qdrant_models,
    translated_errors,
)

STATE_POINT = 0
PAYLOAD_KEYS = ("product_id", "label")  # keyword payload indexes (filters) on a server
F = TypeVar("F", bound=Callable[..., Any])


def remote(method: F) -> F:
    """Run a store method with Qdrant errors translated to BackendUnavailable."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with translated_errors(self.options):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def check_prefix(prefix: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", prefix):
        raise ValueError(f"bad Qdrant collection prefix {prefix!r}: letters, digits, '_', '-'")
    return prefix


def new_collection_name(prefix: str, stamp: str) -> str:
    """`<prefix>_<sha256(stamp)[:12]>_<6 random hex>`: per model stamp, new at every reset."""
    digest = hashlib.sha256(stamp.encode("utf-8")).hexdigest()[:12]
    return f"{prefix}_{digest}_{secrets.token_hex(3)}"


def is_our_collection(prefix: str, name: str) -> bool:
    return re.fullmatch(rf"{re.escape(prefix)}_[0-9a-f]{{12}}_[0-9a-f]{{6}}", name) is not None


def collection_config(options: QdrantOptions, dim: int, metric: str) -> dict[str, Any]:
    """The create_collection arguments of a vector collection."""
    m = qdrant_models()
    distance = m.Distance.COSINE if metric == "cosine" else m.Distance.EUCLID
    return {
        "vectors_config": m.VectorParams(size=dim, distance=distance, on_disk=options.on_disk),
        "hnsw_config": m.HnswConfigDiff(m=options.hnsw_m, ef_construct=options.ef_construction),
        "on_disk_payload": options.on_disk,
    }


def payload_dict(image_id: int, payload: VectorPayload | None) -> dict[str, Any]:
    document: dict[str, Any] = {"image_id": image_id}
    if payload is not None:
        for key in ("product_id", "label", "box"):
            value = getattr(payload, key)
            if value is not None:
                document[key] = list(value) if key == "box" else value
    return document


def payload_filter(product_ids: Collection[str] | None, labels: Collection[str] | None) -> Any:
    """Points whose product is one of `product_ids` and whose label is one of `labels`."""
    m = qdrant_models()
    must = [
        m.FieldCondition(key=key, match=m.MatchAny(any=list(values)))
        for key, values in (("product_id", product_ids), ("label", labels))
        if values is not None
    ]
    if not must:
        raise ValueError("give product_ids or labels to filter on")
    return m.Filter(must=must)


def read_state(client: Any, state_collection: str) -> dict[str, Any] | None:
    """The state point's payload, or None when nothing was saved yet."""
    if not client.collection_exists(state_collection):
        return None
    points = client.retrieve(state_collection, [STATE_POINT], with_payload=True)
    return dict(points[0].payload or {}) if points else None


def write_state(client: Any, state_collection: str, state: dict[str, Any]) -> None:
    m = qdrant_models()
    if not client.collection_exists(state_collection):
        # a one-dimensional vector: every Qdrant version accepts it (the state is the payload)
        params = m.VectorParams(size=1, distance=m.Distance.DOT)
        client.create_collection(state_collection, vectors_config=params)
    point = m.PointStruct(id=STATE_POINT, vector=[1.0], payload=state)
    client.upsert(state_collection, points=[point], wait=True)

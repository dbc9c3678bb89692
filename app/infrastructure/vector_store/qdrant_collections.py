"""A collection's life over a qdrant-client: create it (with its payload indexes), read its point
ids and vectors, measure it, drop the ones no longer served.

Plain functions; the store in qdrant_store.py decides when each runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.infrastructure.vector_store.qdrant_connection import QdrantOptions, qdrant_models
from app.infrastructure.vector_store.qdrant_schema import (
    PAYLOAD_KEYS,
    collection_config,
    is_our_collection,
)

SCROLL_PAGE = 10_000
RETRIEVE_CHUNK = 1_000


def create_collection(
    client: Any, name: str, options: QdrantOptions, dim: int, metric: str
) -> None:
    """A vector collection with keyword payload indexes (filters), unless it exists already."""
    m = qdrant_models()
    if not client.collection_exists(name):
        client.create_collection(name, **collection_config(options, dim, metric))
        for key in PAYLOAD_KEYS:
            client.create_payload_index(name, key, m.PayloadSchemaType.KEYWORD, wait=True)


def drop_collections(client: Any, prefix: str, keep: set[str | None]) -> None:
    """Delete the collections of this prefix, except those in `keep`."""
    for described in client.get_collections().collections:
        if is_our_collection(prefix, described.name) and described.name not in keep:
            client.delete_collection(described.name)


def point_ids(client: Any, name: str) -> list[int]:
    """Every point id of the collection, page by page."""
    found: list[int] = []
    offset = None
    while True:
        points, offset = client.scroll(
            name, limit=SCROLL_PAGE, offset=offset, with_payload=False, with_vectors=False
        )
        found += [int(p.id) for p in points]
        if offset is None:
            return found


def retrieve_vectors(client: Any, name: str, ids: np.ndarray) -> dict[int, list[float]]:
    """The vectors of those of `ids` the collection holds, by id."""
    found: dict[int, list[float]] = {}
    for start in range(0, ids.size, RETRIEVE_CHUNK):
        chunk = ids[start : start + RETRIEVE_CHUNK].tolist()
        records = client.retrieve(name, chunk, with_vectors=True, with_payload=False)
        found.update((int(r.id), r.vector) for r in records)
    return found


def bytes_on_disk(options: QdrantOptions, name: str) -> int:
    """Size of the collection's folder in local mode (a server does not say: 0)."""
    if options.url or not options.path:
        return 0
    folder = Path(options.path).expanduser() / "collection" / name
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

"""Use case: near-duplicate and byte-identical images in the gallery, and label conflicts.

Pairs come from the vector store's own range search (`within`: FAISS range search on flat
indexes, k-NN cut at the radius on HNSW / IVF / Qdrant), one block of stored vectors at a time:
memory grows with the pairs found, never with N x N. Files with the same content hash always pair.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from app.domain.duplicates import (
    DedupScope,
    DuplicateGroup,
    Pair,
    group_pairs,
    hash_pairs,
    in_scope,
    score_to_similarity,
    similarity_to_score,
)
from app.domain.errors import InvalidInput
from app.domain.models import CROP, ImageRecord
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.progress import ProgressFactory, no_progress

BLOCK = 1024  # stored vectors searched at once


@dataclass(frozen=True)
class DedupOptions:
    threshold: float = 0.94  # cosine similarity; DEDUP_THRESHOLD (README: how it was chosen)
    scope: DedupScope = DedupScope.ALL
    conflicts_only: bool = False
    neighbours: int = 16  # near neighbours looked at per image (groups still chain further)

    def __post_init__(self) -> None:
        if not -1.0 <= self.threshold <= 1.0:
            raise InvalidInput(
                f"threshold must be a cosine similarity in [-1, 1]: {self.threshold}"
            )
        if self.neighbours < 1:
            raise InvalidInput(f"neighbours must be at least 1: {self.neighbours}")


@dataclass
class DedupReport:
    groups: list[DuplicateGroup] = field(default_factory=list)
    images: int = 0  # images compared
    seconds: float = 0.0


@dataclass(eq=False)
class DedupService:
    repository: Repository
    store: VectorStore
    progress: ProgressFactory = no_progress

    def find(self, options: DedupOptions | None = None) -> DedupReport:
        """Groups of near-duplicate gallery images (object crops left out), conflicts first."""
        options = options or DedupOptions()
        started = time.perf_counter()
        records = {r.id: r for r in self.repository.list_images() if r.source != CROP}
        pairs = hash_pairs(records.values()) + self.near_pairs(records, options)
        products = {i: r.product_id for i, r in records.items()}
        pairs = [p for p in pairs if in_scope(p, products, options.scope)]
        groups = group_pairs(pairs, records)
        if options.conflicts_only:
            groups = [g for g in groups if g.conflict]
        return DedupReport(groups, len(records), time.perf_counter() - started)

    def near_pairs(self, records: dict[int, ImageRecord], options: DedupOptions) -> list[Pair]:
        """Pairs of stored images at least `threshold` alike (each pair may appear twice)."""
        ids = np.intersect1d(self.store.ids(), np.fromiter(records, np.int64, len(records)))
        metric = self.store.metric
        radius = similarity_to_score(options.threshold, metric)
        pairs: list[Pair] = []
        bar = self.progress(total=int(ids.size), desc="near-duplicates")
        try:
            for start in range(0, ids.size, BLOCK):
                chunk = ids[start : start + BLOCK]
                rows = self.store.within(self.store.vectors(chunk), radius, options.neighbours + 1)
                for a, row in zip(chunk.tolist(), rows, strict=True):
                    pairs += [
                        Pair.of(a, b, score_to_similarity(score, metric))
                        for b, score in row
                        if b != a and b in records
                    ]
                bar.update(chunk.size)
        finally:
            bar.close()
        return pairs

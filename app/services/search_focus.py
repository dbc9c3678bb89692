"""Focused search for SearchService: a product / folder filter run inside the vector store, one
hit per product, and the relevance cut-off."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.domain.errors import NotFound
from app.domain.search_filters import (
    Focus,
    IdFilter,
    Row,
    SearchOptions,
    apply_cutoff,
    clean_folder,
    one_per_product,
)
from app.interfaces.repository import Repository

DISTINCT_DEPTH = 10  # --distinct-products first asks for this many hits per wanted hit
Ranker = Callable[[np.ndarray, int, IdFilter | None], list[Row]]


def id_filter(repository: Repository, focus: Focus) -> IdFilter | None:
    """The image ids a focused search may return (None: all of them)."""
    if not focus.active:
        return None
    excluded: set[int] = set()
    if focus.exclude_products:
        excluded = set(repository.image_ids(products=focus.exclude_products))
    if not focus.narrows:
        return IdFilter.of(sorted(excluded), exclude=True)
    under = clean_folder(focus.under) if focus.under is not None else None
    ids = repository.image_ids(products=focus.products or None, under=under)
    allowed = [i for i in ids if i not in excluded]
    if not allowed:
        raise NotFound(f"no gallery image matches the filter ({describe(focus)})")
    return IdFilter.of(allowed)


def describe(focus: Focus) -> str:
    parts = []
    if focus.products:
        parts.append(f"products {', '.join(focus.products)}")
    if focus.under is not None:
        parts.append(f"under {focus.under}")
    if focus.exclude_products:
        parts.append(f"excluding {', '.join(focus.exclude_products)}")
    return "; ".join(parts)


@dataclass(frozen=True)
class FocusedSearch:
    """Runs `rank` (the store's search) with the filter, the distinct rule and the cut-off."""

    repository: Repository
    rank: Ranker
    size: int  # vectors in the store: when to stop asking for more
    higher_is_better: bool

    def rows(self, vectors: np.ndarray, k: int, options: SearchOptions) -> list[tuple[Row, int]]:
        """Per query: the hits (at most k, best first) and how many the cut-off removed."""
        where = id_filter(self.repository, options.focus)
        if options.distinct_products:
            rows = self._distinct(vectors, k, where)
        else:
            rows = [row[:k] for row in self.rank(vectors, k, where)]
        return [apply_cutoff(row, options.cutoff, self.higher_is_better) for row in rows]

    def _distinct(self, vectors: np.ndarray, k: int, where: IdFilter | None) -> list[Row]:
        """One hit per product: ask for more hits until k products are found or none are left."""
        depth = k * DISTINCT_DEPTH
        while True:
            rows = self.rank(vectors, depth, where)
            records = self.repository.get_images({i for row in rows for i, _ in row})
            products = {image_id: record.product_id for image_id, record in records.items()}
            kept = [one_per_product(row, products.get, k) for row in rows]
            if depth >= self.size or all(len(row) >= k for row in kept):
                return kept
            depth *= 4

"""Re-ranking with feedback: a query close to an earlier judged query gets that query's
known-good products lifted and known-bad ones pushed down (rule in domain/feedback.py).

Re-ranking needs the product of each candidate. An image id names one row for good (ids are
never reused) and its product comes from its path, so the products already looked up are kept
in memory (at most PRODUCTS_KEPT, then forgotten at once): a judged query's search asks the
database only for candidates it has not seen before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.domain.feedback import RerankParams, rerank_row
from app.interfaces.repository import Repository
from app.services.judged_index import JudgedIndex

PRODUCTS_KEPT = 200_000  # image id -> product entries kept in memory (a few tens of MB at most)


@dataclass(eq=False)
class FeedbackReranker:
    judged: JudgedIndex
    repository: Repository
    params: RerankParams
    _product_of: dict[int, str] = field(default_factory=dict, init=False, repr=False)

    def depth(self, k: int) -> int:
        """How many neighbours to fetch so that re-ranking can bring some in from below top-K."""
        return max(k, self.params.candidates)

    def changes(self, vectors: np.ndarray, model_stamp: str) -> list[dict[str, float]]:
        """Per query vector: the score change of each product that judged near queries moved."""
        return self.judged.changes(vectors, self.params.similarity, self.params.weight, model_stamp)

    def rerank(
        self, rows: list[list[tuple[int, float]]], changes: list[dict[str, float]]
    ) -> list[list[tuple[int, float]]]:
        """Each row of (image id, score) with its query's `changes` added, best first."""
        if not any(changes):
            return rows
        product_of = self._products({i for row in rows for i, _ in row})
        return [
            rerank_row(row, product_of, change) for change, row in zip(changes, rows, strict=True)
        ]

    def _products(self, ids: set[int]) -> dict[int, str]:
        known = self._product_of
        missing = [i for i in ids if i not in known]
        if missing:
            found = {i: r.product_id for i, r in self.repository.get_images(missing).items()}
            if len(known) + len(found) > PRODUCTS_KEPT:
                known = self._product_of = {}
            known.update(found)
        return {i: known[i] for i in ids if i in known}

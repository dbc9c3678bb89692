"""Re-ranking with feedback: a query close to an earlier judged query gets that query's
known-good products lifted and known-bad ones pushed down (rule in domain/feedback.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.feedback import RerankParams, feedback_adjustments, rerank_row
from app.interfaces.repository import Repository
from app.services.judged_index import JudgedIndex


@dataclass(eq=False)
class FeedbackReranker:
    judged: JudgedIndex
    repository: Repository
    params: RerankParams

    def depth(self, k: int) -> int:
        """How many neighbours to fetch so that re-ranking can bring some in from below top-K."""
        return max(k, self.params.candidates)

    def changes(self, vectors: np.ndarray, model_stamp: str) -> list[dict[str, float]]:
        """Per query vector: the score change of each product that judged near queries moved."""
        near = self.judged.near(vectors, self.params.similarity, model_stamp)
        return [feedback_adjustments(found, self.params.weight) for found in near]

    def rerank(
        self, rows: list[list[tuple[int, float]]], changes: list[dict[str, float]]
    ) -> list[list[tuple[int, float]]]:
        """Each row of (image id, score) with its query's `changes` added, best first."""
        if not any(changes):
            return rows
        records = self.repository.get_images(i for row in rows for i, _ in row)
        product_of = {i: r.product_id for i, r in records.items()}
        return [
            rerank_row(row, product_of, change) for change, row in zip(changes, rows, strict=True)
        ]

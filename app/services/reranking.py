"""Re-ranking with feedback: a query close to an earlier judged query gets that query's
known-good products lifted and known-bad ones pushed down (rule in domain/feedback.py)."""

from __future__ import annotations

import numpy as np

from app.domain.feedback import GOOD, RerankParams, feedback_adjustments, rerank_row
from app.interfaces.feedback import FeedbackStore
from app.interfaces.repository import Repository


class FeedbackReranker:
    def __init__(
        self, feedback: FeedbackStore, repository: Repository, params: RerankParams
    ) -> None:
        self._feedback = feedback
        self._repo = repository
        self.params = params

    def depth(self, k: int) -> int:
        """How many neighbours to fetch so that re-ranking can bring some in from below top-K."""
        return max(k, self.params.candidates)

    def rerank(
        self, vectors: np.ndarray, rows: list[list[tuple[int, float]]], model_stamp: str
    ) -> list[list[tuple[int, float]]]:
        """Each row of (image id, score) re-scored for its query vector, best first."""
        judged = self._feedback.list_judgements(model_stamp=model_stamp)
        if not judged:
            return rows
        matrix = np.stack([j.query_vector for j in judged])
        signs = np.array([1.0 if j.verdict == GOOD else -1.0 for j in judged])
        products = [j.product_id for j in judged]
        records = self._repo.get_images(i for row in rows for i, _ in row)
        product_of = {i: r.product_id for i, r in records.items()}
        out = []
        for vector, row in zip(vectors, rows, strict=True):
            query = vector / (np.linalg.norm(vector) or 1.0)
            changes = feedback_adjustments(query, matrix, signs, products, self.params)
            out.append(rerank_row(row, product_of, changes))
        return out

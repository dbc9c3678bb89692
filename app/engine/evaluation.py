"""`EvaluationUtils`: Precision@K and Recall@K over labels, the maths of `evaluate`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.domain.metrics import matches, precision_at_k, recall_at_k

Label = str | int
Ranking = Sequence[Label] | Label


class EvaluationUtils:
    """`true_labels[i]` is query i's class; `predicted_labels[i]` the classes of its results,
    best first (a single label counts as a ranking of one). Same definitions as `evaluate`:
    Precision@K = right-class results in the top K / K, averaged over queries; Recall@K = share
    of queries with at least one right-class result in the top K."""

    @staticmethod
    def calculate_precision_at_k(
        true_labels: Sequence[Label], predicted_labels: Sequence[Ranking], k: int
    ) -> float:
        return precision_at_k(_hits(true_labels, predicted_labels, k), k)

    @staticmethod
    def calculate_recall_at_k(
        true_labels: Sequence[Label], predicted_labels: Sequence[Ranking], k: int
    ) -> float:
        return recall_at_k(_hits(true_labels, predicted_labels, k), k)


def _hits(true_labels: Sequence[Label], predicted: Sequence[Ranking], k: int) -> np.ndarray:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(true_labels) != len(predicted):
        raise ValueError(f"{len(true_labels)} true labels for {len(predicted)} rankings")
    rankings = [_as_list(r)[:k] for r in predicted]
    names = dict.fromkeys([*true_labels, *(label for r in rankings for label in r)])
    index = {name: i for i, name in enumerate(names)}
    ranked = np.full((len(rankings), k), -1, dtype=np.int64)
    for row, ranking in enumerate(rankings):
        ranked[row, : len(ranking)] = [index[label] for label in ranking]
    return matches(ranked, np.array([index[t] for t in true_labels], dtype=np.int64))


def _as_list(ranking: Ranking) -> list[Label]:
    if isinstance(ranking, str | int | np.integer):
        return [ranking]
    return list(ranking)

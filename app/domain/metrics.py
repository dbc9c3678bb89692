"""Retrieval and classification metrics (pure numpy).

Retrieval inputs are ranked gallery labels per query: `ranked[i, j]` is the class index of the
j-th best gallery image for query i (-1 where the ranking is shorter), and `n_relevant[i]` the
number of gallery images of query i's class.
"""

from __future__ import annotations

import numpy as np


def matches(ranked: np.ndarray, query_labels: np.ndarray) -> np.ndarray:
    """Boolean (queries, ranks): does the gallery image at that rank have the query's class?"""
    ranked = np.asarray(ranked)
    return ranked == np.asarray(query_labels)[:, None]


def recall_at_k(hits: np.ndarray, k: int) -> float:
    """Share of queries with at least one right-class image in the top k."""
    if hits.shape[0] == 0:
        return 0.0
    return float(hits[:, :k].any(axis=1).mean())


def precision_at_k(hits: np.ndarray, k: int) -> float:
    """Mean over queries of (right-class images in the top k) / k."""
    if hits.shape[0] == 0:
        return 0.0
    return float(hits[:, :k].sum(axis=1).mean() / k)


def average_precisions(hits: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """AP per query: mean of precision@rank over the ranks of right-class images.

    The denominator is the number of relevant gallery images, so a truncated ranking can only
    lower AP. Queries with no relevant gallery image get NaN (left out of the mean).
    """
    hits = np.asarray(hits, dtype=bool)
    ranks = np.arange(1, hits.shape[1] + 1, dtype=np.float64)
    precision = np.cumsum(hits, axis=1) / ranks
    summed = (precision * hits).sum(axis=1)
    n_relevant = np.asarray(n_relevant, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_relevant > 0, summed / n_relevant, np.nan)


def mean_average_precision(hits: np.ndarray, n_relevant: np.ndarray) -> float:
    """mAP over the queries whose class has gallery images (0.0 when there are none)."""
    ap = average_precisions(hits, n_relevant)
    valid = ap[~np.isnan(ap)]
    return float(valid.mean()) if valid.size else 0.0


def confusion_matrix(
    true: np.ndarray, predicted: np.ndarray, n_rows: int, n_cols: int
) -> np.ndarray:
    """Counts (n_rows, n_cols): rows are true classes, columns predicted ones (int64)."""
    matrix = np.zeros((n_rows, n_cols), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Diagonal / row total for each true class (NaN for a class with no queries)."""
    rows = matrix.sum(axis=1).astype(np.float64)
    n = min(matrix.shape)
    diagonal = np.zeros(matrix.shape[0], dtype=np.float64)
    diagonal[:n] = np.diagonal(matrix)[:n]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, diagonal / rows, np.nan)


def accuracy(true: np.ndarray, predicted: np.ndarray) -> float:
    true = np.asarray(true)
    return float((true == np.asarray(predicted)).mean()) if true.size else 0.0


def ranked_labels(
    rows: list[list[tuple[int, float]]], label_of_id: dict[int, int], depth: int
) -> np.ndarray:
    """Class label of each search hit (row = query), padded with -1 to `depth`."""
    ranked = np.full((len(rows), depth), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        ranked[i, : len(row)] = [label_of_id[image_id] for image_id, _ in row]
    return ranked

"""Classification by retrieval in pure numpy: a query's similarities to a gallery of labelled
examples become class logits, probabilities and a decision (a class, or unclassifiable).

Aggregations of the (cosine) similarities to the examples of each class:
- "max": the best similarity per class (max-pool), divided by the temperature;
- "prototype": the similarity to the class mean embedding (renormalised), divided by the
  temperature, as in prototypical networks;
- "knn": a weighted vote of the k nearest examples (weight = similarity, or 1 / L2 distance);
  the logits are the log of each class's share of the vote.
Probabilities are `softmax(logits)`. The service and the torch module share these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.domain.choices import Aggregation, KnnWeighting
from app.domain.classification import RetrievalPrediction
from app.domain.scoring import l2_normalize

AGGREGATIONS = tuple(Aggregation)
KNN_WEIGHTINGS = tuple(KnnWeighting)
QUERY_BLOCK = 64  # queries scored at once: bounds the (queries x examples) similarity matrix
LISTED_CLASSES = 10  # class probabilities kept in a prediction (the best ones)
_EPS = 1e-6


@dataclass(frozen=True)
class ScoringParams:
    aggregation: str = "max"
    temperature: float = 0.05
    knn_k: int = 20
    knn_weighting: str = "similarity"

    def __post_init__(self) -> None:
        check_aggregation(self.aggregation)
        if self.knn_weighting not in KNN_WEIGHTINGS:
            raise ValueError(f"knn weighting must be one of {', '.join(KNN_WEIGHTINGS)}")
        if self.temperature <= 0 or self.knn_k < 1:
            raise ValueError("temperature must be > 0 and knn k >= 1")

    @property
    def key(self) -> str:
        """What the probabilities depend on (calibrated margins are only valid for this)."""
        if self.aggregation == "knn":
            return f"knn:k={self.knn_k}:{self.knn_weighting}"
        return f"{self.aggregation}:t={self.temperature:g}"


@dataclass(frozen=True)
class Thresholds:
    """Reject when the best similarity is below `min_similarity` or when the probabilities of the
    two best classes are closer than `min_margin`."""

    min_similarity: float = -1.0
    min_margin: float = 0.0


def check_aggregation(name: str) -> str:
    if name not in AGGREGATIONS:
        raise ValueError(unknown_aggregation(name))
    return name


def unknown_aggregation(name: str) -> str:
    return f"unknown aggregation {name!r}: choose one of {', '.join(AGGREGATIONS)}"


@dataclass(frozen=True)
class LabelledGallery:
    """Unit-length example vectors grouped by class: rows of class c are contiguous, classes in
    `class_names` order (sorted). Build it with `LabelledGallery.build`."""

    vectors: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, non-decreasing, every class present
    class_names: tuple[str, ...]

    @classmethod
    def build(cls, vectors: np.ndarray, class_names: Sequence[str]) -> LabelledGallery:
        """Rows of `vectors` labelled by `class_names` (one per row), in any order."""
        vectors = l2_normalize(np.asarray(vectors, dtype=np.float32))
        names = np.asarray(list(class_names), dtype=object)
        if vectors.ndim != 2 or names.shape[0] != vectors.shape[0]:
            raise ValueError(f"{names.shape[0]} labels for {vectors.shape[0]} vectors")
        if names.size == 0:
            return cls(vectors.reshape(0, vectors.shape[1]), np.empty(0, dtype=np.int64), ())
        classes, labels = np.unique(names.astype(str), return_inverse=True)
        order = np.argsort(labels, kind="stable")
        return cls(
            np.ascontiguousarray(vectors[order]),
            labels.astype(np.int64)[order],
            tuple(str(c) for c in classes),
        )

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @cached_property
    def starts(self) -> np.ndarray:
        """First row of each class."""
        return np.searchsorted(self.labels, np.arange(len(self.class_names)))

    @cached_property
    def prototypes(self) -> np.ndarray:
        """(C, D) mean embedding of each class, renormalised."""
        return l2_normalize(np.add.reduceat(self.vectors, self.starts, axis=0))


@dataclass(frozen=True)
class Scores:
    logits: np.ndarray  # (Q, C): softmax(logits) are the class probabilities
    best_similarity: np.ndarray  # (Q,): similarity of the nearest example

    @property
    def probabilities(self) -> np.ndarray:
        return softmax(self.logits)


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of `logits / temperature` (stable; -inf logits get probability 0)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def max_pool(similarities: np.ndarray, gallery: LabelledGallery) -> np.ndarray:
    """(Q, C): the best similarity to an example of each class."""
    return np.maximum.reduceat(similarities, gallery.starts, axis=1)


def knn_votes(
    similarities: np.ndarray, gallery: LabelledGallery, k: int, weighting: str
) -> np.ndarray:
    """(Q, C): each class's share of the weighted vote of the k most similar examples.

    Weights: the similarity (clipped at a small positive value), or 1 / d with d the L2 distance
    between unit vectors, sqrt(2 - 2 s).
    """
    k = min(k, similarities.shape[1])
    nearest = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
    sims = np.take_along_axis(similarities, nearest, axis=1)
    if weighting == "similarity":
        weights = np.maximum(sims, _EPS)
    else:
        weights = 1.0 / np.maximum(np.sqrt(np.maximum(2.0 - 2.0 * sims, 0.0)), _EPS)
    votes = np.zeros((similarities.shape[0], len(gallery.class_names)), dtype=np.float64)
    rows = np.repeat(np.arange(similarities.shape[0]), k)
    np.add.at(votes, (rows, gallery.labels[nearest].ravel()), weights.ravel())
    return votes / votes.sum(axis=1, keepdims=True)


def score(queries: np.ndarray, gallery: LabelledGallery, params: ScoringParams) -> Scores:
    """Class logits and nearest-example similarity of each query (rows of `queries`)."""
    if len(gallery) == 0:
        raise ValueError("the gallery is empty")
    queries = l2_normalize(np.atleast_2d(queries))
    logits, best = [], []
    for start in range(0, queries.shape[0], QUERY_BLOCK):
        sims = queries[start : start + QUERY_BLOCK] @ gallery.vectors.T
        best.append(sims.max(axis=1))
        logits.append(_logits(queries[start : start + QUERY_BLOCK], sims, gallery, params))
    n_classes = len(gallery.class_names)
    return Scores(
        np.concatenate(logits) if logits else np.empty((0, n_classes), dtype=np.float32),
        np.concatenate(best) if best else np.empty(0, dtype=np.float32),
    )


def _logits(
    queries: np.ndarray, sims: np.ndarray, gallery: LabelledGallery, params: ScoringParams
) -> np.ndarray:
    if params.aggregation == "max":
        return (max_pool(sims, gallery) / params.temperature).astype(np.float32)
    if params.aggregation == "prototype":
        return ((queries @ gallery.prototypes.T) / params.temperature).astype(np.float32)
    votes = knn_votes(sims, gallery, params.knn_k, params.knn_weighting)
    with np.errstate(divide="ignore"):
        return np.log(votes).astype(np.float32)


def decide(
    probabilities: np.ndarray,
    best_similarity: float,
    class_names: Sequence[str],
    thresholds: Thresholds,
    aggregation: str,
) -> RetrievalPrediction:
    """The prediction for one query: the most probable class, or unclassifiable with the reason."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    order = np.argsort(-probabilities, kind="stable")
    first = float(probabilities[order[0]])
    margin = float(margins(probabilities[None])[0])  # float32 maths, exactly as in calibration
    reason = None
    if best_similarity < thresholds.min_similarity:
        reason = (
            f"best similarity {best_similarity:.3f} below threshold {thresholds.min_similarity:.3f}"
        )
    elif margin < thresholds.min_margin:
        reason = (
            f"ambiguous between {class_names[order[0]]} and {class_names[order[1]]} "
            f"(margin {margin:.3f} below {thresholds.min_margin:.3f})"
        )
    listed = {class_names[i]: float(probabilities[i]) for i in order[:LISTED_CLASSES]}
    return RetrievalPrediction(
        class_name=None if reason else class_names[order[0]],
        confidence=first,
        unclassifiable=reason is not None,
        reason=reason,
        class_probabilities=listed,
        aggregation=aggregation,
        similarity=float(best_similarity),
    )


def margins(probabilities: np.ndarray) -> np.ndarray:
    """(Q,): probability of the best class minus that of the second (the best one alone: itself)."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.shape[1] == 1:
        return probabilities[:, 0].copy()
    top2 = -np.partition(-probabilities, 1, axis=1)[:, :2]
    return top2[:, 0] - top2[:, 1]

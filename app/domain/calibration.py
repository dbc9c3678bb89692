"""Pick rejection thresholds from labelled validation queries for a target precision.

A query is accepted when its best similarity >= min_similarity and its margin (probability of the
best class minus the second) >= min_margin. Among all threshold pairs whose accepted queries reach
the target precision, the one accepting the most queries (best coverage) wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.retrieval_scoring import Thresholds

MAX_MARGIN_CANDIDATES = 200


@dataclass(frozen=True)
class CalibrationRecord:
    """Thresholds chosen by `calibrate`, stored with the gallery for one model stamp and one
    scoring setup (`scoring_key`: the aggregation and what its probabilities depend on)."""

    scoring_key: str
    thresholds: Thresholds
    target_precision: float
    precision: float
    coverage: float
    queries: int
    calibrated_at: str


@dataclass(frozen=True)
class CalibrationChoice:
    thresholds: Thresholds
    precision: float  # of the accepted queries (1.0 when none is accepted)
    coverage: float  # accepted / all queries
    accepted: int
    queries: int
    reached: bool  # whether `precision` reaches the target


def _margin_candidates(margin: np.ndarray) -> np.ndarray:
    values = np.unique(np.concatenate([[0.0], margin]))
    if values.size > MAX_MARGIN_CANDIDATES:
        values = np.unique(np.quantile(values, np.linspace(0, 1, MAX_MARGIN_CANDIDATES)))
    return values


def _best_for_margin(
    similarity: np.ndarray, correct: np.ndarray, target: float
) -> tuple[tuple[float, float], float, int]:
    """For the queries passing one margin threshold: (key, similarity threshold, accepted).

    Accepting the n most similar queries is the only sensible similarity threshold family; cut
    only at the end of a run of equal similarities. The key orders candidates (higher is better):
    (coverage, precision) when the target is reached, else (-1, precision).
    """
    order = np.argsort(-similarity, kind="stable")
    sims, hits = similarity[order], correct[order].astype(np.float64)
    counts = np.arange(1, sims.size + 1)
    precision = np.cumsum(hits) / counts
    ends = np.flatnonzero(np.r_[sims[1:] != sims[:-1], True])
    reached = precision[ends] >= target - 1e-12
    if reached.any():
        best = ends[reached][np.argmax(counts[ends][reached])]
        return (float(counts[best]), float(precision[best])), float(sims[best]), int(counts[best])
    best = ends[np.argmax(precision[ends])]  # first (fewest accepted) among the most precise
    return (-1.0, float(precision[best])), float(sims[best]), int(counts[best])


def choose_thresholds(
    similarity: np.ndarray, margin: np.ndarray, correct: np.ndarray, target_precision: float
) -> CalibrationChoice:
    """The threshold pair with the best coverage at `target_precision` (or, when no pair reaches
    it, the most precise one, with `reached=False`)."""
    similarity = np.asarray(similarity, dtype=np.float64)
    margin = np.asarray(margin, dtype=np.float64)
    correct = np.asarray(correct, dtype=bool)
    total = similarity.size
    if total == 0:
        raise ValueError("no queries to calibrate on")
    best: tuple[tuple[float, float], Thresholds, int] | None = None
    for min_margin in _margin_candidates(margin):
        passing = margin >= min_margin
        if not passing.any():
            continue
        key, min_similarity, accepted = _best_for_margin(
            similarity[passing], correct[passing], target_precision
        )
        if best is None or key > best[0]:
            best = (key, Thresholds(min_similarity, float(min_margin)), accepted)
    assert best is not None  # margin >= 0 always passes the first candidate
    key, thresholds, accepted = best
    return CalibrationChoice(
        thresholds=thresholds,
        precision=key[1],
        coverage=accepted / total,
        accepted=accepted,
        queries=total,
        reached=key[0] >= 0,
    )


def precision_coverage(
    similarity: np.ndarray, margin: np.ndarray, correct: np.ndarray, thresholds: Thresholds
) -> tuple[float, float]:
    """Precision of the accepted queries (nan when none) and the share accepted."""
    accepted = (np.asarray(similarity) >= thresholds.min_similarity) & (
        np.asarray(margin) >= thresholds.min_margin
    )
    coverage = float(accepted.mean()) if accepted.size else 0.0
    precision = float(np.asarray(correct)[accepted].mean()) if accepted.any() else float("nan")
    return precision, coverage

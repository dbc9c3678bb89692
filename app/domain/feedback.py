"""Feedback: users' verdicts on results, and the pure re-ranking rule that uses them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from app.domain.choices import Verdict
from app.domain.errors import InvalidInput

GOOD = Verdict.GOOD
BAD = Verdict.BAD
VERDICTS = tuple(Verdict)


def validate_verdict(verdict: str) -> str:
    if verdict not in VERDICTS:
        raise InvalidInput(f"verdict must be 'good' or 'bad', not {verdict!r}")
    return verdict


@dataclass(frozen=True)
class Judgement:
    """One verdict: the query (content hash, its embedding and where its image is kept) judged
    against a product (class) and, for a search hit, the catalogue image (`image_id`)."""

    query_hash: str
    query_vector: np.ndarray = field(repr=False, compare=False)
    product_id: str
    verdict: str
    model_stamp: str
    image_id: int | None = None
    query_ref: str | None = None  # the stored copy of the query image (promote, export)
    note: str | None = None
    id: int | None = None
    created_at: datetime | None = None
    promoted: bool = False


@dataclass(frozen=True)
class FeedbackStats:
    total: int
    good: int
    bad: int
    products: int
    # products judged both good and bad: (product, good, bad), the most disputed first
    disputed: list[tuple[str, int, int]]


def feedback_stats(judgements: list[Judgement], top: int = 10) -> FeedbackStats:
    good: Counter[str] = Counter(j.product_id for j in judgements if j.verdict == GOOD)
    bad: Counter[str] = Counter(j.product_id for j in judgements if j.verdict == BAD)
    products = set(good) | set(bad)
    # disputed: judged both ways; the more of the rarer verdict, the more disputed
    both = [p for p in products if good[p] and bad[p]]
    ranked = sorted(both, key=lambda p: (-min(good[p], bad[p]), -(good[p] + bad[p]), p))
    return FeedbackStats(
        total=len(judgements),
        good=sum(good.values()),
        bad=sum(bad.values()),
        products=len(products),
        disputed=[(p, good[p], bad[p]) for p in ranked[:top]],
    )


@dataclass(frozen=True)
class JudgedNeighbour:
    """An earlier judged query close to a new one: its product, verdict sign and similarity."""

    product_id: str
    sign: float  # +1 good, -1 bad
    similarity: float


def feedback_adjustments(near: Iterable[JudgedNeighbour], weight: float) -> dict[str, float]:
    """Score change per product for one query, from the judged queries close enough to it
    (cosine similarity s >= RerankParams.similarity, found by the judged-query index): each
    adds `sign * weight * s` to its product; the changes add up."""
    near = list(near)
    signs = np.array([n.sign for n in near], dtype=np.float64)
    similarities = np.array([n.similarity for n in near], dtype=np.float64)
    return summed_changes([n.product_id for n in near], signs, similarities, weight)


def summed_changes(
    products: Sequence[str], signs: np.ndarray, similarities: np.ndarray, weight: float
) -> dict[str, float]:
    """`feedback_adjustments` over columns (one entry per judged query), without a record each:
    what a search with hundreds of judged queries near it computes."""
    changes: dict[str, float] = {}
    for product, move in zip(products, (signs * similarities * weight).tolist(), strict=True):
        changes[product] = changes.get(product, 0.0) + move
    return changes


@dataclass(frozen=True)
class RerankParams:
    similarity: float = 0.9
    weight: float = 0.5
    candidates: int = 50


def rerank_row(
    row: list[tuple[int, float]], product_of: dict[int, str], changes: dict[str, float]
) -> list[tuple[int, float]]:
    """The candidates (image id, score) with each product's change added, best first."""
    if not changes:
        return row
    moved = [(i, s + changes.get(product_of.get(i, ""), 0.0)) for i, s in row]
    return sorted(moved, key=lambda pair: -pair[1])


@dataclass(frozen=True)
class Refinement:
    """Relevance feedback for one search: gallery image ids the results should look more like
    and less like (Rocchio: q' = a*q + b*mean(more) - c*mean(less), normalised)."""

    more_like: tuple[int, ...] = ()
    less_like: tuple[int, ...] = ()
    alpha: float = 1.0
    beta: float = 0.75
    gamma: float = 0.25

    def __bool__(self) -> bool:
        return bool(self.more_like or self.less_like)


def rocchio(
    queries: np.ndarray, more: np.ndarray, less: np.ndarray, refinement: Refinement
) -> np.ndarray:
    """Every query row moved toward the mean of `more` and away from the mean of `less`."""
    moved = refinement.alpha * np.asarray(queries, dtype=np.float32)
    if len(more):
        moved = moved + refinement.beta * more.mean(axis=0)
    if len(less):
        moved = moved - refinement.gamma * less.mean(axis=0)
    norms = np.linalg.norm(moved, axis=1, keepdims=True)
    return (moved / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def judgement_dict(j: Judgement) -> dict:
    return {
        "id": j.id,
        "verdict": j.verdict,
        "product_id": j.product_id,
        "image_id": j.image_id,
        "query_hash": j.query_hash,
        "query_image": j.query_ref,
        "note": j.note,
        "model": j.model_stamp,
        "promoted": j.promoted,
        "created_at": j.created_at.isoformat() if j.created_at else None,
    }


def stats_dict(s: FeedbackStats) -> dict:
    return {
        "total": s.total,
        "good": s.good,
        "bad": s.bad,
        "products": s.products,
        "most_disputed": [{"product_id": p, "good": g, "bad": b} for p, g, b in s.disputed],
    }

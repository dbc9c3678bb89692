"""The pure parts of feedback: the re-ranking rule, Rocchio, stats."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.errors import InvalidInput
from app.domain.feedback import (
    JudgedNeighbour,
    Judgement,
    Refinement,
    feedback_adjustments,
    feedback_stats,
    rerank_row,
    rocchio,
    summed_changes,
    validate_verdict,
)


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_close_judged_queries_move_their_products_and_changes_add_up():
    near = [
        JudgedNeighbour("a", 1.0, 1.0),
        JudgedNeighbour("b", -1.0, 0.95),
        JudgedNeighbour("a", 1.0, 0.9),
    ]
    changes = feedback_adjustments(near, weight=0.5)
    assert changes["a"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.9)
    assert changes["b"] == pytest.approx(-0.5 * 0.95)
    assert feedback_adjustments([], weight=0.5) == {}


def test_rerank_row_moves_products_and_sorts():
    row = [(1, 0.9), (2, 0.8), (3, 0.7)]
    product_of = {1: "x", 2: "y", 3: "z"}
    assert rerank_row(row, product_of, {"x": -0.5, "z": 0.3}) == [
        (3, pytest.approx(1.0)),
        (2, 0.8),
        (1, pytest.approx(0.4)),
    ]
    assert rerank_row(row, product_of, {}) is row


def test_rocchio_moves_toward_more_and_away_from_less():
    q = np.stack([_unit(1, 0, 0)])
    more, less = np.stack([_unit(0, 1, 0)]), np.stack([_unit(0, 0, 1)])
    moved = rocchio(q, more, less, Refinement((1,), (2,), beta=1.0, gamma=0.5))
    assert np.linalg.norm(moved[0]) == pytest.approx(1.0)
    assert moved[0][1] > 0 > moved[0][2]
    empty = np.empty((0, 0), dtype=np.float32)
    assert np.allclose(rocchio(q, empty, empty, Refinement()), q)
    assert not Refinement() and Refinement(more_like=(1,))


def test_stats_rank_disputed_products_first():
    def j(product: str, verdict: str) -> Judgement:
        return Judgement("h", np.zeros(2, np.float32), product, verdict, "m")

    stats = feedback_stats([j("a", "good"), j("b", "good"), j("b", "bad"), j("c", "bad")])
    assert (stats.total, stats.good, stats.bad, stats.products) == (4, 2, 2, 3)
    assert stats.disputed[0] == ("b", 1, 1)
    assert stats.disputed == [("b", 1, 1)]  # judged one way only is not disputed


def test_verdict_is_good_or_bad():
    assert validate_verdict("good") == "good"
    with pytest.raises(InvalidInput):
        validate_verdict("meh")


def test_summed_changes_is_the_same_rule_over_columns():
    near = [JudgedNeighbour("a", 1.0, 0.97), JudgedNeighbour("b", -1.0, 0.91)] * 3
    columns = summed_changes(
        [n.product_id for n in near],
        np.array([n.sign for n in near]),
        np.array([n.similarity for n in near]),
        0.5,
    )
    assert columns == pytest.approx(feedback_adjustments(near, 0.5))
    assert columns == pytest.approx({"a": 3 * 0.5 * 0.97, "b": -3 * 0.5 * 0.91})

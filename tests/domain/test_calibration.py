"""Threshold choice for a target precision, on hand-made validation results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.domain.calibration import choose_thresholds, precision_coverage
from app.domain.retrieval_scoring import Thresholds

SIM = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
MARGIN = np.array([0.5, 0.1, 0.6, 0.4, 0.3])
CORRECT = np.array([1, 0, 1, 1, 0], dtype=bool)


def test_perfect_precision_uses_both_thresholds():
    # by margin >= 0.3 the wrong 0.8 goes; by similarity >= 0.6 the wrong 0.5 goes
    choice = choose_thresholds(SIM, MARGIN, CORRECT, target_precision=1.0)
    assert choice.thresholds == Thresholds(0.6, 0.3)
    assert (choice.precision, choice.coverage, choice.accepted, choice.reached) == (
        1.0,
        0.6,
        3,
        True,
    )


def test_lower_target_buys_coverage():
    choice = choose_thresholds(SIM, MARGIN, CORRECT, target_precision=0.75)
    assert choice.thresholds == Thresholds(0.6, 0.0)
    assert (choice.precision, choice.coverage) == (0.75, 0.8)


def test_everything_accepted_when_all_correct():
    choice = choose_thresholds(SIM, MARGIN, np.ones(5, dtype=bool), target_precision=0.95)
    assert choice.coverage == 1.0 and choice.thresholds == Thresholds(0.5, 0.0)


def test_ties_in_similarity_are_not_split():
    sim = np.array([0.9, 0.7, 0.7])
    choice = choose_thresholds(sim, np.zeros(3), np.array([1, 1, 0], bool), target_precision=1.0)
    assert choice.thresholds.min_similarity == 0.9 and choice.accepted == 1


def test_unreachable_target_is_flagged():
    choice = choose_thresholds(SIM, MARGIN, np.zeros(5, dtype=bool), target_precision=0.5)
    assert not choice.reached and choice.precision == 0.0


def test_precision_coverage_of_given_thresholds():
    assert precision_coverage(SIM, MARGIN, CORRECT, Thresholds(0.6, 0.3)) == (1.0, 0.6)
    precision, coverage = precision_coverage(SIM, MARGIN, CORRECT, Thresholds(0.95, 0.0))
    assert math.isnan(precision) and coverage == 0.0


def test_no_queries_is_an_error():
    with pytest.raises(ValueError, match="no queries"):
        choose_thresholds(np.array([]), np.array([]), np.array([], bool), 0.9)

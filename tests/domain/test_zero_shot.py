"""Zero-shot maths and the answer / "I don't know" decision, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.domain.decision import AnswerThresholds, certain, decide
from app.domain.zero_shot import ensemble, softmax, zero_shot_probabilities


def test_ensemble_averages_each_class_prompts_then_normalises():
    prompts = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)  # class a: 2 prompts, b: 1
    vectors = ensemble(prompts, [2, 1])
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(vectors, [[s, s], [1, 0]], atol=1e-6)


def test_ensemble_refuses_counts_that_do_not_add_up():
    with pytest.raises(ValueError):
        ensemble(np.zeros((3, 2)), [1, 1])


def test_softmax_hand_computed_and_stable():
    np.testing.assert_allclose(softmax(np.array([0.0, math.log(3.0)])), [0.25, 0.75])
    big = softmax(np.array([[1000.0, 1000.0]]))
    np.testing.assert_allclose(big, [[0.5, 0.5]])


def test_probabilities_are_softmax_of_scaled_cosines():
    image = np.array([[3.0, 4.0]])  # unit: (0.6, 0.8)
    classes = np.array([[1.0, 0.0], [0.0, 2.0]])  # unit: (1, 0), (0, 1)
    probs = zero_shot_probabilities(image, classes, logit_scale=10.0)
    # cosines 0.6 and 0.8 -> logits 6 and 8 -> softmax
    expected = np.exp([6.0, 8.0]) / np.exp([6.0, 8.0]).sum()
    np.testing.assert_allclose(probs[0], expected, rtol=1e-6)
    assert probs.sum() == pytest.approx(1.0)


def test_decide_answers_with_ranked_probabilities():
    p = decide("color", ["red", "blue", "green"], np.array([0.2, 0.7, 0.1]), "zero-shot",
               AnswerThresholds(0.5, 0.1))  # fmt: skip
    assert (p.value, p.confidence, p.source, p.reason) == ("blue", 0.7, "zero-shot", None)
    assert list(p.probabilities) == ["blue", "red", "green"]


def test_decide_says_unsure_below_min_confidence_or_margin():
    low = decide("color", ["red", "blue", "green"], np.array([0.4, 0.35, 0.25]), "trained",
                 AnswerThresholds(0.5, 0.0))  # fmt: skip
    assert low.value is None and low.confidence == pytest.approx(0.4)
    assert "unsure" in low.reason and "'red'" in low.reason and "0.400 < 0.5" in low.reason
    close = decide("gender", ["men", "women"], np.array([0.54, 0.46]), "zero-shot",
                   AnswerThresholds(0.5, 0.1))  # fmt: skip
    assert close.value is None and "leads the next class by 0.080 < 0.1" in close.reason


def test_certain_answer():
    only = certain("category", "clothing", "labels")
    assert (only.value, only.confidence, only.probabilities) == ("clothing", 1.0, {"clothing": 1.0})

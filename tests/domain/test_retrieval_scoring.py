"""Classification-by-retrieval maths against values computed by hand.

Gallery: class a = [1, 0] and [0.6, 0.8], class b = [0, 1]; query q = [0.8, 0.6], so the
similarities are a: 0.8 and 0.96, b: 0.6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.domain.retrieval_scoring import (
    LabelledGallery,
    ScoringParams,
    Thresholds,
    decide,
    margins,
    score,
    softmax,
)

QUERY = np.array([[0.8, 0.6]], dtype=np.float32)


@pytest.fixture
def gallery() -> LabelledGallery:
    vectors = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    return LabelledGallery.build(vectors, ["b", "a", "a"])


def p_a(diff: float) -> float:
    """Probability of a in a two-class softmax where a's logit exceeds b's by `diff`."""
    return 1.0 / (1.0 + math.exp(-diff))


def probs(gallery, **params) -> np.ndarray:
    return score(QUERY, gallery, ScoringParams(**params)).probabilities[0]


def test_build_groups_examples_by_sorted_class(gallery):
    assert gallery.class_names == ("a", "b")
    assert gallery.labels.tolist() == [0, 0, 1]
    assert gallery.starts.tolist() == [0, 2]
    np.testing.assert_allclose(gallery.vectors[2], [0.0, 1.0])


def test_max_pool_softmax_with_temperature(gallery):
    scores = score(QUERY, gallery, ScoringParams("max", temperature=0.1))
    np.testing.assert_allclose(scores.logits[0], [9.6, 6.0], rtol=1e-5)
    np.testing.assert_allclose(scores.best_similarity, [0.96], rtol=1e-6)
    np.testing.assert_allclose(scores.probabilities[0, 0], p_a(3.6), rtol=1e-5)  # 0.97340
    np.testing.assert_allclose(probs(gallery, temperature=1.0)[0], p_a(0.36), rtol=1e-5)


def test_prototype_is_the_renormalised_class_mean(gallery):
    np.testing.assert_allclose(gallery.prototypes[0], [2 / math.sqrt(5), 1 / math.sqrt(5)])
    proto_sim = 0.8 * 2 / math.sqrt(5) + 0.6 / math.sqrt(5)  # 0.98387
    got = probs(gallery, aggregation="prototype", temperature=0.1)
    np.testing.assert_allclose(got[0], p_a((proto_sim - 0.6) / 0.1), rtol=1e-5)


def test_knn_similarity_weighted_vote(gallery):
    np.testing.assert_allclose(
        probs(gallery, aggregation="knn", knn_k=3), [1.76 / 2.36, 0.6 / 2.36], rtol=1e-5
    )
    top2 = score(QUERY, gallery, ScoringParams("knn", knn_k=2))
    np.testing.assert_allclose(top2.probabilities[0], [1.0, 0.0])
    assert top2.logits[0, 1] == -np.inf


def test_knn_inverse_distance_vote(gallery):
    weights = [1 / math.sqrt(2 - 2 * s) for s in (0.8, 0.96, 0.6)]
    want_a = (weights[0] + weights[1]) / sum(weights)  # 0.82068
    got = probs(gallery, aggregation="knn", knn_k=20, knn_weighting="inverse_distance")
    np.testing.assert_allclose(got, [want_a, 1 - want_a], rtol=1e-5)


def test_exact_duplicate_gets_a_finite_inverse_distance_weight(gallery):
    query = np.array([[0.0, 1.0]], dtype=np.float32)
    got = score(query, gallery, ScoringParams("knn", knn_weighting="inverse_distance"))
    assert np.isfinite(got.probabilities).all() and got.probabilities[0, 1] > 0.99


def test_many_queries_in_blocks_match_one_by_one(gallery):
    queries = np.random.default_rng(0).standard_normal((150, 2)).astype(np.float32)
    batched = score(queries, gallery, ScoringParams("max"))
    single = [score(q[None], gallery, ScoringParams("max")).logits[0] for q in queries[:5]]
    np.testing.assert_allclose(batched.logits[:5], single, rtol=1e-6)
    assert batched.logits.shape == (150, 2) and batched.best_similarity.shape == (150,)


def test_softmax_is_stable_and_handles_minus_infinity():
    np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])
    np.testing.assert_allclose(softmax(np.array([[0.0, -np.inf]])), [[1.0, 0.0]])
    np.testing.assert_allclose(softmax(np.array([[2.0, 0.0]]), temperature=2.0)[0, 0], p_a(1.0))


def test_decide_accepts_the_best_class(gallery):
    p = probs(gallery, temperature=0.1)
    prediction = decide(p, 0.96, gallery.class_names, Thresholds(0.5, 0.5), "max")
    assert (prediction.class_name, prediction.unclassifiable, prediction.reason) == (
        "a",
        False,
        None,
    )
    assert prediction.confidence == pytest.approx(p_a(3.6), rel=1e-5)
    assert list(prediction.class_probabilities) == ["a", "b"]
    assert prediction.similarity == pytest.approx(0.96)


def test_decide_rejects_a_low_best_similarity(gallery):
    p = probs(gallery, temperature=0.1)
    prediction = decide(p, 0.96, gallery.class_names, Thresholds(0.97, 0.0), "max")
    assert prediction.unclassifiable and prediction.class_name is None
    assert prediction.reason == "best similarity 0.960 below threshold 0.970"


def test_decide_rejects_a_small_margin(gallery):
    p = probs(gallery, aggregation="knn", knn_k=3)  # 0.7458 vs 0.2542: margin 0.4915
    prediction = decide(p, 0.96, gallery.class_names, Thresholds(0.0, 0.5), "knn")
    assert prediction.reason == "ambiguous between a and b (margin 0.492 below 0.500)"
    np.testing.assert_allclose(margins(p[None]), [1.16 / 2.36], rtol=1e-5)
    assert decide(p, 0.96, gallery.class_names, Thresholds(0.0, 0.49), "knn").class_name == "a"


def test_one_class_gallery_is_never_ambiguous():
    one = LabelledGallery.build(np.eye(2, dtype=np.float32), ["x", "x"])
    p = score(QUERY, one, ScoringParams()).probabilities
    assert margins(p).tolist() == [1.0]
    assert decide(p[0], 0.8, one.class_names, Thresholds(0.0, 1.0), "max").class_name == "x"


def test_only_the_best_classes_are_listed():
    names = [f"c{i:02d}" for i in range(15)]
    rng = np.random.default_rng(1)
    big = LabelledGallery.build(rng.standard_normal((15, 4)).astype(np.float32), names)
    p = score(rng.standard_normal((1, 4)), big, ScoringParams()).probabilities[0]
    listed = decide(p, 0.5, big.class_names, Thresholds(), "max").class_probabilities
    assert len(listed) == 10 and list(listed.values()) == sorted(listed.values(), reverse=True)


def test_bad_parameters_and_empty_gallery():
    with pytest.raises(ValueError, match="aggregation"):
        ScoringParams("mean")
    with pytest.raises(ValueError, match="weighting"):
        ScoringParams("knn", knn_weighting="rank")
    empty = LabelledGallery.build(np.empty((0, 2), dtype=np.float32), [])
    with pytest.raises(ValueError, match="empty"):
        score(QUERY, empty, ScoringParams())


def test_scoring_key_names_what_margins_depend_on():
    assert ScoringParams("max", temperature=0.05).key == "max:t=0.05"
    assert ScoringParams("knn", knn_k=20).key == "knn:k=20:similarity"

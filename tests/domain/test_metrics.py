"""Retrieval and classification metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.domain import metrics

# Three queries (classes 0, 1, 0) over a gallery of two class-0 and two class-1 images.
RANKED = np.array([[0, 1, 0, 1], [0, 0, 1, 1], [1, 1, 0, 0]])
QUERY_LABELS = np.array([0, 1, 0])
N_RELEVANT = np.array([2, 2, 2])


@pytest.fixture
def hits():
    return metrics.matches(RANKED, QUERY_LABELS)


def test_matches(hits):
    assert hits.tolist() == [
        [True, False, True, False],
        [False, False, True, True],
        [False, False, True, True],
    ]


@pytest.mark.parametrize(("k", "expected"), [(1, 1 / 3), (2, 1 / 3), (3, 1.0), (4, 1.0)])
def test_recall_at_k_is_any_hit_in_top_k(hits, k, expected):
    assert metrics.recall_at_k(hits, k) == pytest.approx(expected)


# top 3: q0 has 2 right-class images, q1 and q2 one each -> (2/3 + 1/3 + 1/3) / 3
@pytest.mark.parametrize(("k", "expected"), [(1, 1 / 3), (2, 1 / 6), (3, 4 / 9), (4, 0.5)])
def test_precision_at_k(hits, k, expected):
    assert metrics.precision_at_k(hits, k) == pytest.approx(expected)


def test_average_precision_per_query(hits):
    ap = metrics.average_precisions(hits, N_RELEVANT)
    # q0: hits at ranks 1 and 3 -> (1/1 + 2/3) / 2; q1, q2: ranks 3 and 4 -> (1/3 + 2/4) / 2
    assert ap == pytest.approx([(1 + 2 / 3) / 2, (1 / 3 + 1 / 2) / 2, (1 / 3 + 1 / 2) / 2])
    assert metrics.mean_average_precision(hits, N_RELEVANT) == pytest.approx(
        ((1 + 2 / 3) / 2 + 2 * (1 / 3 + 1 / 2) / 2) / 3
    )


def test_truncated_ranking_lowers_ap_and_padding_never_matches():
    ranked = np.array([[0, -1, -1]])  # one result found of 3 relevant ones
    hits = metrics.matches(ranked, np.array([0]))
    assert metrics.average_precisions(hits, np.array([3])) == pytest.approx([1 / 3])
    assert not metrics.matches(np.array([[-1]]), np.array([0])).any()


def test_query_without_relevant_gallery_images_is_left_out_of_map():
    hits = metrics.matches(np.array([[0, 1], [0, 0]]), np.array([0, 2]))
    ap = metrics.average_precisions(hits, np.array([1, 0]))
    assert ap[0] == pytest.approx(1.0) and math.isnan(ap[1])
    assert metrics.mean_average_precision(hits, np.array([1, 0])) == pytest.approx(1.0)


def test_empty_inputs_give_zero():
    empty = np.zeros((0, 5), dtype=bool)
    assert metrics.recall_at_k(empty, 1) == 0.0
    assert metrics.precision_at_k(empty, 5) == 0.0
    assert metrics.mean_average_precision(empty, np.zeros(0)) == 0.0


def test_confusion_matrix_with_an_unclassifiable_column():
    true = np.array([0, 0, 1, 2, 2])
    predicted = np.array([0, 1, 1, 3, 2])  # 3 = unclassifiable
    matrix = metrics.confusion_matrix(true, predicted, n_rows=3, n_cols=4)
    assert matrix.tolist() == [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]]
    per_class = metrics.per_class_accuracy(matrix)
    assert per_class.tolist() == [0.5, 1.0, 0.5]
    assert metrics.accuracy(true, predicted) == pytest.approx(3 / 5)


def test_per_class_accuracy_is_nan_for_a_class_without_queries():
    matrix = metrics.confusion_matrix(np.array([0]), np.array([0]), 2, 2)
    result = metrics.per_class_accuracy(matrix)
    assert result[0] == 1.0 and math.isnan(result[1])

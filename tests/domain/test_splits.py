"""The group-aware stratified assignment and group ids, on synthetic groups."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.splits import SplitFractions, assign_groups, group_of


@pytest.mark.parametrize(
    ("path", "group"),
    [
        ("cow/cow3_7.jpg", "cow3"),
        ("shoes/red_runner_12.png", "red_runner"),
        ("dress/6075b4a5-5b1a.jpg", "dress/6075b4a5-5b1a.jpg"),  # no pattern: its own group
        ("hat/_1.jpg", "hat/_1.jpg"),
        ("hat/abc_.jpg", "hat/abc_.jpg"),
    ],
)
def test_group_of(path, group):
    assert group_of(path) == group


def test_fractions_must_add_up():
    with pytest.raises(ValueError, match="sum to 1"):
        SplitFractions(0.7, 0.2, 0.2)


def test_equal_groups_follow_the_fractions_per_class():
    classes = [c for c in range(4) for _ in range(20)]  # 4 classes x 20 groups of 5 images
    chosen = assign_groups(classes, [5] * len(classes), SplitFractions(), seed=1)
    for c in range(4):
        counts = np.bincount(chosen[np.array(classes) == c], minlength=3)
        assert counts.tolist() == [14, 3, 3]


def test_deterministic_per_seed_and_seed_matters():
    classes = [c for c in range(3) for _ in range(10)]
    sizes = [1 + (i * 7) % 5 for i in range(30)]
    first = assign_groups(classes, sizes, SplitFractions(), seed=3)
    assert first.tolist() == assign_groups(classes, sizes, SplitFractions(), seed=3).tolist()
    others = [assign_groups(classes, sizes, SplitFractions(), seed=s).tolist() for s in range(4, 9)]
    assert any(o != first.tolist() for o in others)


def test_a_class_with_one_group_goes_to_train_and_zero_fractions_stay_empty():
    chosen = assign_groups([0, 1, 1, 1], [3, 1, 1, 1], SplitFractions(0.8, 0.2, 0.0), seed=0)
    assert chosen[0] == 0
    assert 2 not in chosen.tolist()

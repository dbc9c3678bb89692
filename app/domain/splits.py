"""Group-aware stratified splitting (pure numpy): no group ever lands in two splits.

A group is every photo of one object: `<ID>_<sequence>.jpg` files share the group `<ID>`; a file
without that pattern is a group of its own. Groups are dealt out greedily, largest first, each to
the split furthest below its target number of images of that group's class, so class ratios are kept
as far as whole groups allow. The same seed always gives the same split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

import numpy as np

from app.domain.choices import SplitName
from app.domain.duplicates import Leak
from app.domain.models import SkippedFile

SPLIT_NAMES = tuple(SplitName)  # train, val, test


@dataclass(frozen=True)
class SplitFractions:
    train: float = 0.70
    val: float = 0.15
    test: float = 0.15

    def __post_init__(self) -> None:
        values = (self.train, self.val, self.test)
        if min(values) < 0 or abs(sum(values) - 1.0) > 1e-6 or self.train <= 0:
            raise ValueError(f"split fractions must be >= 0, sum to 1, train > 0: {values}")

    def as_array(self) -> np.ndarray:
        return np.array([self.train, self.val, self.test], dtype=np.float64)


def group_of(relative_path: str) -> str:
    """`cow/cow3_7.jpg` -> `cow3`; a file without `<ID>_<sequence>` is its own group (its path).

    The ID is shared across class folders: the same ID in two classes is one group.
    """
    stem = PurePath(relative_path).stem
    prefix, sep, sequence = stem.rpartition("_")
    if sep and prefix and sequence:
        return prefix
    return relative_path


def assign_groups(
    group_classes: Sequence[int],
    group_sizes: Sequence[int],
    fractions: SplitFractions,
    seed: int,
) -> np.ndarray:
    """Split index (0 train, 1 val, 2 test) of each group.

    `group_classes[g]` is the class index of group g (its majority class), `group_sizes[g]` its
    number of images. Deterministic for a given seed.
    """
    classes = np.asarray(group_classes, dtype=np.int64)
    sizes = np.asarray(group_sizes, dtype=np.float64)
    n_classes = int(classes.max()) + 1 if classes.size else 0
    share = fractions.as_array()
    class_totals = np.bincount(classes, weights=sizes, minlength=n_classes)
    targets = class_totals[:, None] * share[None, :]  # (classes, 3) images wanted per split
    overall_target = sizes.sum() * share
    counts = np.zeros_like(targets)
    overall = np.zeros(3)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(classes.size), -sizes))  # largest first, ties by seed
    jitter = rng.random((classes.size, 3)) * 1e-9
    out = np.empty(classes.size, dtype=np.int64)
    for g in order:
        c = classes[g]
        # the split furthest below its target for this class (in images); overall need breaks ties
        score = (targets[c] - counts[c]) + 1e-6 * (overall_target - overall) + jitter[g]
        score[share == 0] = -np.inf
        chosen = int(np.argmax(score))
        out[g] = chosen
        counts[c, chosen] += sizes[g]
        overall[chosen] += sizes[g]
    return out


@dataclass(frozen=True)
class DatasetSplit:
    """A saved split: the data folder, sorted class names, and relative paths per split."""

    data_dir: str
    classes: list[str]
    files: dict[str, list[str]]
    seed: int

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    def labelled(self, split: str) -> list[tuple[str, str]]:
        """(absolute path, class name) of every image of one split; the class is the folder
        holding the image (a leaf folder, as for product ids)."""
        root = PurePath(self.data_dir)
        return [(str(root / rel), PurePath(rel).parent.name) for rel in self.files[split]]


@dataclass(frozen=True)
class ExcludedGroup:
    group: str
    class_name: str
    images: int
    reason: str


@dataclass
class SplitReport:
    data_dir: str
    splits_dir: str
    seed: int
    reused: bool
    counts: dict[str, dict[str, int]]
    groups: dict[str, int]
    excluded: list[ExcludedGroup]
    skipped: list[SkippedFile]  # files that could not be read
    layout: str = ""  # one line: how the split was made (the tree's own folders, or by group)
    leaks: list[Leak] = field(default_factory=list)  # near-duplicates in two splits

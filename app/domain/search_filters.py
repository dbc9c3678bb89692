"""Focused search: which images a query may return, one hit per product, a relevance cut-off.

Scores follow the store's metric: cosine similarity (higher is better) or squared L2 distance
(lower is better). Every rule here reads "better" the right way for both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.domain.errors import InvalidInput

Row = list[tuple[int, float]]


@dataclass(frozen=True, eq=False)
class IdFilter:
    """The stored ids a search may return: only `ids`, or (`exclude`) every id but `ids`."""

    ids: np.ndarray  # int64, sorted, unique
    exclude: bool = False

    @classmethod
    def of(cls, ids: object, exclude: bool = False) -> IdFilter:
        return cls(np.unique(np.asarray(ids, dtype=np.int64)), exclude)

    def allows(self, ids: np.ndarray) -> np.ndarray:
        """A boolean mask over `ids`."""
        inside = np.isin(np.asarray(ids, dtype=np.int64), self.ids)
        return ~inside if self.exclude else inside


def clean_folder(folder: str) -> str:
    """`Fruit/Apple/` or `./Fruit\\Apple` -> `Fruit/Apple` (relative, forward slashes)."""
    parts = [p for p in folder.replace("\\", "/").split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidInput(f"--under {folder!r}: give a folder inside the products folder")
    return "/".join(parts)


@dataclass(frozen=True)
class Focus:
    """Which part of the catalogue to search: these products only, not those, and/or the
    products whose folder lies under `under` (relative to the products folder)."""

    products: tuple[str, ...] = ()
    exclude_products: tuple[str, ...] = ()
    under: str | None = None

    @property
    def narrows(self) -> bool:
        """Whether it keeps only some images (products / under), not just leaves some out."""
        return bool(self.products) or self.under is not None

    @property
    def active(self) -> bool:
        return self.narrows or bool(self.exclude_products)


@dataclass(frozen=True)
class Cutoff:
    """Drop weak hits: worse than `min_score` (absolute), or more than `relative` worse than the
    best hit. For cosine "worse" is lower; for L2 distance it is higher."""

    min_score: float | None = None
    relative: float | None = None

    def __post_init__(self) -> None:
        if self.relative is not None and self.relative < 0:
            raise InvalidInput(f"--relative must be >= 0, got {self.relative}")

    @property
    def active(self) -> bool:
        return self.min_score is not None or self.relative is not None


@dataclass(frozen=True)
class SearchOptions:
    """How to search beyond k: where (focus), one hit per product, and a cut-off."""

    focus: Focus = field(default_factory=Focus)
    distinct_products: bool = False
    cutoff: Cutoff = field(default_factory=Cutoff)


def apply_cutoff(row: Row, cutoff: Cutoff, higher_is_better: bool) -> tuple[Row, int]:
    """The hits of `row` (best first) that pass `cutoff`, and how many were cut."""
    if not cutoff.active or not row:
        return row, 0
    sign = 1.0 if higher_is_better else -1.0  # compare on "goodness": higher is better
    best = sign * row[0][1]
    floor = -np.inf
    if cutoff.min_score is not None:
        floor = max(floor, sign * cutoff.min_score)
    if cutoff.relative is not None:
        floor = max(floor, best - cutoff.relative)
    kept = [hit for hit in row if sign * hit[1] >= floor]
    return kept, len(row) - len(kept)


def one_per_product(row: Row, product_of: Callable[[int], str | None], k: int) -> Row:
    """The first (best) hit of each product, at most k of them; unknown ids are dropped."""
    seen: set[str] = set()
    kept: Row = []
    for image_id, score in row:
        product = product_of(image_id)
        if product is None or product in seen:
            continue
        seen.add(product)
        kept.append((image_id, score))
        if len(kept) == k:
            break
    return kept

"""Near-duplicate groups: pairs of close images joined into groups (single linkage).

Similarities are cosine similarities of unit vectors. A store that scores by squared L2 distance
d gives the same number through cos = 1 - d / 2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.domain.models import ImageRecord


class DedupScope(StrEnum):
    """Which pairs count: any, only within one product id, or only across two."""

    ALL = "all"
    WITHIN = "within"
    ACROSS = "across"


@dataclass(frozen=True)
class Pair:
    """Two image ids (a < b) and their similarity (1.0 for byte-identical files)."""

    a: int
    b: int
    similarity: float

    @classmethod
    def of(cls, a: int, b: int, similarity: float) -> Pair:
        return cls(min(a, b), max(a, b), float(min(similarity, 1.0)))


@dataclass(frozen=True)
class DuplicateGroup:
    """Images that are near-duplicates of each other. `similarity` is the weakest link of the
    group; `conflict` is True when the images carry more than one product id."""

    images: tuple[ImageRecord, ...]
    similarity: float
    pairs: tuple[Pair, ...]

    @property
    def conflict(self) -> bool:
        return len({r.product_id for r in self.images}) > 1

    def as_dict(self) -> dict[str, Any]:
        """The one serialised shape (CLI --json, GET /duplicates)."""
        return {
            "images": [
                {"image_id": r.id, "path": r.path, "product_id": r.product_id} for r in self.images
            ],
            "similarity": round(self.similarity, 6),
            "conflict": self.conflict,
            "pairs": [[p.a, p.b, round(p.similarity, 6)] for p in self.pairs],
        }


def similarity_to_score(similarity: float, metric: str) -> float:
    """The store score that matches a cosine similarity (unit vectors)."""
    return similarity if metric == "cosine" else max(0.0, 2.0 - 2.0 * similarity)


def score_to_similarity(score: float, metric: str) -> float:
    return score if metric == "cosine" else 1.0 - score / 2.0


def in_scope(pair: Pair, products: dict[int, str], scope: DedupScope) -> bool:
    if scope is DedupScope.ALL:
        return True
    same = products[pair.a] == products[pair.b]
    return same if scope is DedupScope.WITHIN else not same


def hash_pairs(records: Iterable[ImageRecord]) -> list[Pair]:
    """Byte-identical files (same content hash): each joined to the first of its hash."""
    first: dict[str, int] = {}
    pairs = []
    for record in records:
        assert record.id is not None
        seen = first.setdefault(record.content_hash, record.id)
        if seen != record.id:
            pairs.append(Pair.of(seen, record.id, 1.0))
    return pairs


def group_pairs(pairs: Sequence[Pair], records: dict[int, ImageRecord]) -> list[DuplicateGroup]:
    """Connected groups of the pairs (best pair kept when one repeats), conflicts first, then
    by similarity (highest first), then by the smallest image id."""
    best: dict[tuple[int, int], Pair] = {}
    for pair in pairs:
        if pair.a in records and pair.b in records:
            old = best.get((pair.a, pair.b))
            if old is None or pair.similarity > old.similarity:
                best[(pair.a, pair.b)] = pair
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in best:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    members: dict[int, list[Pair]] = {}
    for key, pair in sorted(best.items()):
        members.setdefault(root(key[0]), []).append(pair)
    groups = [_group(group_pairs_, records) for group_pairs_ in members.values()]
    return sorted(groups, key=lambda g: (not g.conflict, -g.similarity, g.images[0].id))


def _group(pairs: list[Pair], records: dict[int, ImageRecord]) -> DuplicateGroup:
    ids = sorted({i for p in pairs for i in (p.a, p.b)})
    return DuplicateGroup(
        images=tuple(records[i] for i in ids),
        similarity=min(p.similarity for p in pairs),
        pairs=tuple(pairs),
    )


@dataclass(frozen=True)
class Leak:
    """Two near-duplicate images in different splits: the leak group splitting should prevent."""

    a: str
    split_a: str
    b: str
    split_b: str
    similarity: float


def leak_warning(leaks: Sequence[Leak], shown: int = 3) -> str | None:
    """One line: how many pairs straddle splits, and the first few."""
    if not leaks:
        return None
    first = "; ".join(
        f"{x.split_a}:{x.a} ~ {x.split_b}:{x.b} ({x.similarity:.3f})" for x in leaks[:shown]
    )
    more = f"; and {len(leaks) - shown} more" if len(leaks) > shown else ""
    return (
        f"warning: {len(leaks)} near-duplicate pairs straddle splits (a leak that inflates "
        f"the scores): {first}{more}"
    )

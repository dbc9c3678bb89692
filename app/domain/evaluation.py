"""What an evaluation answers: retrieval metrics, and per classification rule its accuracy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from app.domain.duplicates import Leak
from app.domain.models import SkippedFile

UNCLASSIFIABLE = "unclassifiable"


@dataclass(frozen=True)
class RuleScores:
    """How one way of naming a class did: the top-1 neighbour, or a classification rule.

    `confusion[i][j]` counts queries of class `classes[i]` predicted as `columns[j]`; `columns`
    is `classes`, plus "unclassifiable" for rules that may refuse to answer.
    """

    name: str
    accuracy: float
    coverage: float
    classes: list[str]
    columns: list[str]
    per_class_accuracy: dict[str, float | None]
    confusion: list[list[int]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accuracy": _round(self.accuracy),
            "coverage": _round(self.coverage),
            "per_class_accuracy": {k: _round(v) for k, v in self.per_class_accuracy.items()},
        }


@dataclass
class EvaluationReport:
    model_stamp: str
    gallery: str
    queries: str
    n_gallery: int
    n_queries: int
    recall: dict[int, float]
    precision: dict[int, float]
    mean_average_precision: float
    map_depth: int
    top1: RuleScores
    rules: list[RuleScores] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    leaks: list[Leak] = field(default_factory=list)  # queries with a near-duplicate in the gallery

    def as_dict(self) -> dict[str, Any]:
        """Flat, JSON-ready: `recall@K`, `precision@K`, `map`, `n_queries`, per-class, rules."""
        data: dict[str, Any] = {f"recall@{k}": _round(v) for k, v in self.recall.items()}
        data |= {f"precision@{k}": _round(v) for k, v in self.precision.items()}
        data |= {
            "map": _round(self.mean_average_precision),
            "map_depth": self.map_depth,
            "n_queries": self.n_queries,
            "n_gallery": self.n_gallery,
            "leaks": len(self.leaks),
            "top1_accuracy": _round(self.top1.accuracy),
            "per_class_accuracy": self.top1.as_dict()["per_class_accuracy"],
            "rules": {rule.name: rule.as_dict() for rule in self.rules},
            "model": self.model_stamp,
            "gallery": self.gallery,
            "queries": self.queries,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "files": dict(self.files),
            "seconds": round(self.seconds, 2),
        }
        return data


def _round(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return round(float(value), 6)

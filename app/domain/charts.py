"""What a chart shows, however it is drawn: series against the epoch, a confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Series:
    """One curve against the epoch; `None` values are gaps; `y_range` fixes the axis (0..1 for a
    recall)."""

    name: str
    values: Sequence[float | None]
    y_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Confusion:
    """Counts of true class (rows) x predicted class (columns; may end with "unclassifiable")."""

    rows: list[str]
    columns: list[str]
    counts: np.ndarray
    title: str = ""

    @classmethod
    def of(cls, rows: Sequence[str], columns: Sequence[str], matrix, title: str = "") -> Confusion:
        counts = np.asarray(matrix, dtype=np.int64).reshape(len(rows), len(columns))
        return cls(list(rows), list(columns), counts, title)

    def most_confused(self, limit: int) -> Confusion:
        """At most `limit` classes: those in the largest off-diagonal counts (errors), so a chart
        of hundreds of classes shows where the model goes wrong. Columns that are not classes
        (e.g. "unclassifiable") stay."""
        if len(self.rows) <= limit:
            return self
        errors = self.counts.copy()
        index = {name: j for j, name in enumerate(self.columns)}
        for i, name in enumerate(self.rows):
            if name in index:
                errors[i, index[name]] = 0
        kept: list[str] = []
        for flat in np.argsort(-errors, axis=None, kind="stable"):
            i, j = np.unravel_index(flat, errors.shape)
            for name in (self.rows[i], self.columns[j]):
                if name in self.rows and name not in kept and len(kept) < limit:
                    kept.append(name)
            if len(kept) >= limit or errors[i, j] == 0:
                break
        kept += [r for r in self.rows if r not in kept][: limit - len(kept)]
        rows = [r for r in self.rows if r in kept]
        extra = [c for c in self.columns if c not in self.rows]
        columns = rows + extra
        counts = np.array(
            [
                [self.counts[self.rows.index(r), self.columns.index(c)] for c in columns]
                for r in rows
            ]
        )
        title = f"{self.title} ({limit} most confused of {len(self.rows)} classes)".strip()
        return Confusion(rows, columns, counts, title)

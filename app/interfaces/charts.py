"""Port: pictures and tables for people (confusion matrices, training curves).

Contract: each method writes one file at `path` (folders created, replaced atomically) and
returns the path; drawing never changes the data it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from app.domain.charts import Confusion, Series


class Charts(Protocol):
    def confusion_csv(self, path: Path, confusion: Confusion) -> Path:
        """First column the true class, then one column per predicted class."""
        ...

    def confusion_png(self, path: Path, confusion: Confusion) -> Path:
        """A heat map of row-normalised counts with axis titles and a colour bar."""
        ...

    def curves_png(
        self,
        path: Path,
        epochs: Sequence[int],
        series: Sequence[Series],
        title: str = "",
        marker: float | None = None,
    ) -> Path:
        """One panel per series against the epoch; `marker` draws a dashed vertical line."""
        ...

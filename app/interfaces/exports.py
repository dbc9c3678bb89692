"""Port: a data set written out for people and other tools (`feedback export`): photos copied
into class folders, and tables beside them.

Contract: `copy(source, target)` copies a file to `target` (folders created, replaced atomically)
unless `target` exists already, and says whether it copied; `table(path, header, rows)` writes a
CSV file atomically and returns its path. OSError when the disk refuses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol


class DatasetExport(Protocol):
    def copy(self, source: Path, target: Path) -> bool: ...

    def table(
        self, path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]
    ) -> Path: ...

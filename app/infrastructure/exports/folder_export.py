"""DatasetExport into a folder: copies and CSV tables, written with the one atomic writer."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.atomic_files import atomic_write, atomic_write_bytes


class FolderExport:
    def copy(self, source: Path, target: Path) -> bool:
        target = Path(target)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(source, "rb") as original:
            atomic_write(target, lambda out: shutil.copyfileobj(original, out))
        return True

    def table(self, path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
        path = Path(path)
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, text.getvalue().encode("utf-8"))
        return path

"""Documents as UTF-8 JSON files, written with the one atomic writer (app/atomic_files.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.atomic_files import atomic_write_json


class JsonFiles:
    def write(self, path: Path, data: Any, indent: int = 2) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, data, indent=indent)
        return path

    def read(self, path: Path) -> Any:
        return json.loads(Path(path).read_text(encoding="utf-8"))

    def exists(self, path: Path) -> bool:
        return Path(path).is_file()

    def remove(self, path: Path) -> None:
        Path(path).unlink(missing_ok=True)

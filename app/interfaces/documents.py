"""Port: small JSON documents kept as files (a saved split, an evaluation report, a training
history). What a document holds is the use case's business; how it is written and read is the
adapter's.

Contract: `write(path, data)` replaces the file atomically (folders created) and returns `path`;
`read(path)` gives back what was written: FileNotFoundError when there is none, ValueError when it
is not JSON, another OSError when it cannot be read; `exists(path)`; `remove(path)` deletes it
(absent is fine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class Documents(Protocol):
    def write(self, path: Path, data: Any, indent: int = 2) -> Path: ...

    def read(self, path: Path) -> Any: ...

    def exists(self, path: Path) -> bool: ...

    def remove(self, path: Path) -> None: ...

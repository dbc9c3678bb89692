"""Paths as API answers show them: relative to the folder they live in, never absolute.

Stored paths are the server's own (`/srv/img-recog/data/products/red-shoe/0.jpg`); clients see
`red-shoe/0.jpg` (catalogue), `red-shoe/<hash>.jpg` (examples) or `queries/<hash>.jpg` (kept
feedback queries). A path outside those folders shows only its file name.
"""

from __future__ import annotations

import os
from pathlib import Path

from app.config import Settings


def public_path(path: str | Path | None, settings: Settings) -> str | None:
    if path is None:
        return None
    absolute = os.path.abspath(path)
    for root in (settings.products_dir, settings.examples_dir, settings.index_dir / "feedback"):
        base = os.path.abspath(root)
        if absolute.startswith(base.rstrip(os.sep) + os.sep):
            return Path(os.path.relpath(absolute, base)).as_posix()
    return Path(path).name

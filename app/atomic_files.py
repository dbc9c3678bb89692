"""The one atomic writer: readers see the old file or the whole new one, never half of it.

One policy for every file the application writes (index files, manifests, caches, example
copies, split lists, checkpoints, remembered model choices):
- written to a private temp file beside the target, flushed and fsynced;
- renamed over the target with `os.replace`, then the directory is fsynced, so the rename
  survives a power cut;
- the file is readable by everyone and writable by its owner (0644), as a plain `open()` would
  make it under the usual umask: indexes, models and splits are meant to be shared;
- on any failure the temp file is removed and the old target stays as it was.

This module is the bottom layer: services, training and adapters all use it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

FILE_MODE = 0o644
TMP_SUFFIX = ".tmp"

Writer = Callable[[BinaryIO], object]


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink inside `directory` durable (no-op where it cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, writer: Writer) -> None:
    """Write `path` through `writer(file)` so readers see the old content or the whole new one."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # e.g. a full disk: say which file could not be written
        raise
    fsync_directory(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably."""
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_json(path: Path, data: Any, indent: int = 2) -> None:
    """Replace `path` with `data` as UTF-8 JSON (non-ASCII kept as is)."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    atomic_write_bytes(path, text.encode("utf-8"))

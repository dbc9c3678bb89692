"""Cache port on disk: numpy arrays that outlive the process (text prompts, training photos).

One `.npz` file per entry holds the key and the array (no pickles: loaded with
allow_pickle=False). Writes are atomic, so another process never reads half a file; a damaged
file counts as missing and is deleted. Least recently used entries (by file time, which `get`
refreshes) are evicted beyond `max_entries`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import zipfile
from pathlib import Path

import numpy as np

from app.infrastructure.files import atomic_write

logger = logging.getLogger(__name__)

_SUFFIX = ".npz"


class FileCache:
    """Values must be numpy arrays (of numbers); `max_entries=0` disables the cache."""

    def __init__(self, directory: Path, max_entries: int) -> None:
        if max_entries < 0:
            raise ValueError(f"max_entries must be >= 0, got {max_entries}")
        self.directory = Path(directory)
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._count: int | None = None

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored["key"]) != key:  # a digest collision: treat as missing
                    return None
                value = stored["value"]
            os.utime(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            logger.warning("dropping damaged cache file %s: %s", path, exc)
            self._unlink(path)
            return None
        return value

    def put(self, key: str, value: np.ndarray) -> None:
        if self.max_entries == 0:
            return
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            raise TypeError(f"FileCache stores numpy arrays of numbers, got {type(value).__name__}")
        path = self._path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        atomic_write(path, lambda fh: np.savez(fh, key=np.array(key), value=value))
        with self._lock:
            if new and self._count is not None:
                self._count += 1
            over = self._count is not None and self._count > self.max_entries
        if self._count is None or over:
            self._evict()

    def keys(self) -> list[str]:
        """Keys, least recently used first."""
        keys = []
        for path in self._files():
            try:
                with np.load(path, allow_pickle=False) as stored:
                    keys.append(str(stored["key"]))
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                continue
        return keys

    def clear(self) -> int:
        files = self._files()
        for path in files:
            self._unlink(path)
        with self._lock:
            self._count = 0
        return len(files)

    def __len__(self) -> int:
        return len(self._files())

    def _path(self, key: str) -> Path:
        return self.directory / (
            hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + _SUFFIX
        )

    def _files(self) -> list[Path]:
        """Entry files, oldest use first."""
        if not self.directory.is_dir():
            return []
        stamped = []
        for entry in os.scandir(self.directory):
            if entry.name.endswith(_SUFFIX) and not entry.name.startswith("."):
                try:
                    stamped.append((entry.stat().st_mtime_ns, entry.path))
                except FileNotFoundError:
                    continue
        return [Path(p) for _, p in sorted(stamped)]

    def _evict(self) -> None:
        files = self._files()
        surplus = files[: max(0, len(files) - self.max_entries)]
        for path in surplus:
            self._unlink(path)
        with self._lock:
            self._count = len(files) - len(surplus)

    @staticmethod
    def _unlink(path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()

"""An advisory lock file that lets one rebuild at a time write an index folder.

The file (INDEX_DIR/rebuild.lock) holds who has it: pid, host and start time, as JSON. The
lock itself is an exclusive, non-blocking `flock` on that file, so it dies with its holder: a
lock file left by a killed process (a dead pid) is simply taken over. A second rebuild fails at
once with `Conflict`, naming the holder. The file is never deleted (deleting it would let two
processes lock two different files of the same name); it is emptied on release.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from app.domain.errors import Conflict

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; rebuilds are not serialised there
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LOCK_FILE_NAME = "rebuild.lock"


class RebuildLock:
    """`with lock.held():` around a rebuild. One instance per index folder."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / LOCK_FILE_NAME

    @contextmanager
    def held(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # releases the flock

    def _acquire(self, fd: int) -> None:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(f"another rebuild is writing this index: {self._holder()}") from None
        previous = self._read(fd)
        if previous:
            log.info("taking over a stale rebuild lock (%s)", _describe(previous, self.path))
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
            os.fsync(fd)
        except OSError as exc:  # e.g. a full disk: say which file
            exc.filename = exc.filename or str(self.path)
            raise

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            info = {}
        return _describe(info, self.path)

    @staticmethod
    def _read(fd: int) -> dict:
        try:
            return json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            return {}


def _describe(info: dict, path: Path) -> str:
    if not info:
        return f"holder unknown (lock file {path})"
    return (
        f"pid {info.get('pid')} on {info.get('host')} since {info.get('started')} "
        f"(lock file {path})"
    )

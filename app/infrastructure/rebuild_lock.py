"""Advisory lock files of an index folder, between processes on one machine.

- `RebuildLock` (INDEX_DIR/rebuild.lock) lets one rebuild at a time run over an index: a second
  rebuild fails at once with `Conflict`, naming the holder.
- `WriterLock` (INDEX_DIR/writer.lock) serialises every change of the gallery or the index (each
  rebuild checkpoint, class add/update/remove, example removal, upload, crops, promote, migrate):
  a writer waits for it (at most `wait` seconds, then `Conflict` naming the holder). It is held for
  one read-modify-write of the newest saved index, so it is short.

The file holds who has it: pid, host and start time, as JSON. The lock itself is an exclusive
`flock` on that file, so it dies with its holder: a lock file left by a killed process (a dead
pid) is simply taken over. The file is never deleted (deleting it would let two processes lock two
different files of the same name); it is emptied on release.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
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
WRITER_LOCK_NAME = "writer.lock"
POLL_SECONDS = 0.01


class RebuildLock:
    """`with lock.held():` around a rebuild. One instance per index folder."""

    name = LOCK_FILE_NAME
    wait = 0.0  # seconds to wait for the holder; 0: fail at once
    busy = "another rebuild is writing this index"

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / self.name

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
            self._flock(fd)
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

    def _flock(self, fd: int) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise Conflict(f"{self.busy}: {self._holder()}") from None
            time.sleep(POLL_SECONDS)

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


class WriterLock(RebuildLock):
    """`with lock.held():` around one change of the gallery or the index (waits its turn)."""

    name = WRITER_LOCK_NAME
    busy = "another process kept the index locked for too long"

    def __init__(self, directory: Path, wait: float = 300.0) -> None:
        super().__init__(directory)
        self.wait = wait


def _describe(info: dict, path: Path) -> str:
    if not info:
        return f"holder unknown (lock file {path})"
    return (
        f"pid {info.get('pid')} on {info.get('host')} since {info.get('started')} "
        f"(lock file {path})"
    )

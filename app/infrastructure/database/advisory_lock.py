"""A PostgreSQL advisory lock: the writer lock between processes on several machines.

The writer lock file (rebuild_lock.WriterLock) serialises writers on one machine. When
DATABASE_URL is PostgreSQL, a writer then also takes this lock: a session-level advisory lock
keyed by the index location (a hash of where the vector store keeps its data, e.g. the Qdrant
server URL and collection prefix), so writers on several machines sharing the database and the
store change them one at a time too. It is held on a connection of its own for one write and
released after it; when its holder dies, the server ends the session and the lock with it.
A writer waits its turn like for the file (at most `wait` seconds, then `Conflict` naming the
holder's server process and client address).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from app.domain.errors import Conflict
from app.infrastructure.database.engine import make_engine
from app.infrastructure.database.transactions import database_error

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05
_TRY = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
# a bigint key is held as (classid, objid) = its high and low 32 bits, objsubid 1
_HOLDER = text(
    "SELECT a.pid, a.client_addr, a.application_name FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
    "AND l.objsubid = 1 AND l.classid::bigint = :high AND l.objid::bigint = :low"
)


def is_postgresql(database_url: str) -> bool:
    try:
        return make_url(database_url).get_backend_name() == "postgresql"
    except ArgumentError:  # the repository says what is wrong with it
        return False


def lock_key(location: str) -> int:
    """A signed 64-bit advisory lock key for an index location (the same on every machine)."""
    digest = hashlib.blake2b(f"img-recog writer {location}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """`with lock.held():` around one change of the gallery or the index."""

    busy = "another process kept the index locked for too long"

    def __init__(self, database_url: str, location: str, wait: float = 300.0) -> None:
        self.key = lock_key(location)
        self._where = f"PostgreSQL advisory lock {self.key} of {location}"
        self.wait = wait
        self._engine = make_engine(database_url, pool_size=1, max_overflow=4)

    @contextmanager
    def held(self) -> Iterator[None]:
        try:
            connection = self._engine.connect()
        except (OperationalError, InterfaceError) as exc:
            raise database_error(self._engine, exc) from exc
        with connection:
            conn = connection.execution_options(isolation_level="AUTOCOMMIT")
            self._acquire(conn)
            try:
                yield
            finally:
                self._release(conn)

    def _acquire(self, conn: Connection) -> None:
        deadline = time.monotonic() + self.wait
        while not self._ask(conn, _TRY):
            if time.monotonic() >= deadline:
                raise Conflict(f"{self.busy}: {self._holder(conn)}")
            time.sleep(POLL_SECONDS)

    def _release(self, conn: Connection) -> None:
        """The write is done whatever happens here: a session that cannot unlock is closed
        (the server then drops its locks), never handed back to the pool still locked."""
        try:
            self._ask(conn, _UNLOCK)
        except Exception as exc:
            logger.warning("closing the session of %s: %s", self._where, exc)
            conn.invalidate()

    def _ask(self, conn: Connection, query: Any) -> bool:
        try:
            return bool(conn.execute(query, {"key": self.key}).scalar_one())
        except (OperationalError, InterfaceError) as exc:
            raise database_error(self._engine, exc) from exc

    def _holder(self, conn: Connection) -> str:
        high, low = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        try:
            row = conn.execute(_HOLDER, {"high": high, "low": low}).first()
        except DBAPIError:
            row = None
        if row is None:
            return f"holder unknown ({self._where})"
        client = row.client_addr or "a local socket"
        return f"PostgreSQL server process {row.pid} for {client} ({self._where})"

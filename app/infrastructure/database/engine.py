"""The SQLAlchemy engine of the repository and the feedback store: SQLite (WAL, busy timeout,
every unit of work one real transaction) or a pooled server connection (PostgreSQL, psycopg 3)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from app.domain.errors import BackendUnavailable, ConfigError

IN_CHUNK = 500  # at most this many values in one IN (...) list
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "imgrecog_write"  # execution option: this transaction writes


def chunked(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def make_engine(database_url: str, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """An engine; SQLite: parent folder created, WAL journal, busy timeout; a server: a pool of
    `pool_size` connections (+ `max_overflow`) checked before use; postgresql:// uses psycopg 3."""
    try:
        url = make_url(database_url)
    except ArgumentError as exc:
        raise ConfigError(f"invalid database URL {database_url!r}: {exc}") from None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() != "sqlite":
        try:
            return create_engine(
                url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
            )
        except (ImportError, NoSuchModuleError) as exc:
            raise BackendUnavailable(f"no driver for {url.drivername}: {exc}") from exc
    database = url.database or ""
    in_memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    if in_memory:  # one shared connection, or every checkout would see a new empty database
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Python's sqlite3 runs DDL outside transactions; take control so that every unit of
        # work, schema migrations included, is one real transaction (a process killed while
        # creating the schema must not leave half of it behind).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # writers lock first, waiting their turn (a deferred one fails if another wrote since)
        write = connection.get_execution_options().get(WRITE_OPTION)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine

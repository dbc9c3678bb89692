"""One transaction, with the database's failures turned into our errors.

A server that cannot be reached (stopped, restarting, network gone) becomes BackendUnavailable:
the message names the kind of database and says it is unreachable; the server's address, user
and database name go to the log only (API answers must not show them). A full disk becomes
StorageFull naming the device and the database file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from app.disk_space import is_no_space, no_space_message
from app.domain.errors import BackendUnavailable, ImgRecogError, StorageFull

logger = logging.getLogger(__name__)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """`engine.begin()`: committed on return, rolled back on error; outages and full disks
    raised as BackendUnavailable / StorageFull."""
    try:
        with engine.begin() as conn:
            yield conn
    except (OperationalError, InterfaceError) as exc:
        raise database_error(engine, exc) from exc
    except DBAPIError as exc:
        if is_no_space(exc.orig):
            raise database_error(engine, exc) from exc
        raise


def database_error(engine: Engine, exc: DBAPIError) -> ImgRecogError:
    where = engine.url.render_as_string(hide_password=True)
    logger.warning("database %s: %s", where, exc.orig)
    if is_no_space(exc.orig):
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if path:
            return StorageFull(f"database: {no_space_message(path)}")
        return StorageFull(f"{engine.dialect.name} database: its server's disk is full")
    return BackendUnavailable(
        f"{engine.dialect.name} database unavailable ({_reason(exc)}); "
        "the server log names the address"
    )


def _reason(exc: DBAPIError) -> str:
    """A short cause without addresses or names: the first clause of the driver's message."""
    text = str(exc.orig).lower()
    for needle, reason in (
        ("refused", "connection refused"),
        ("timeout", "timed out"),
        ("timed out", "timed out"),
        ("terminating connection", "the server is shutting down"),
        ("shutting down", "the server is shutting down"),
        ("starting up", "the server is starting up"),
        ("closed", "the connection was closed"),
        ("authentication", "authentication failed"),
        ("password", "authentication failed"),
        ("does not exist", "the database does not exist"),
        ("disk i/o", "disk I/O error"),
        ("locked", "the database is locked"),
        ("unable to open", "cannot open the database file"),
    ):
        if needle in text:
            return reason
    return "cannot reach it"

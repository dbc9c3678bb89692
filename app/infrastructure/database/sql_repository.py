"""Repository port on SQLAlchemy 2 Core: portable SQL (SQLite, PostgreSQL), bound parameters only.

Every public method is one transaction (`engine.begin()`): committed on return, rolled back on
error. Tables are created when absent and older databases upgraded in place (`upgrade.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool

from app.domain.errors import BackendUnavailable
from app.domain.gallery import Removals
from app.domain.models import ImageRecord
from app.infrastructure.database.tables import (
    images,
    meta,
    metadata,
    removed_classes,
    removed_images,
)
from app.infrastructure.database.upgrade import upgrade_schema

IN_CHUNK = 500  # at most this many values in one IN (...) list
SQLITE_BUSY_TIMEOUT_MS = 10_000
_FIELDS = ("product_id", "content_hash", "size_bytes", "embedding_model", "source")
T = TypeVar("T")


def chunked(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def make_engine(database_url: str) -> Engine:
    """An engine; for SQLite: parent folder created, WAL journal and a busy timeout."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
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
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_MS)}")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    return engine


def _record(row: Any) -> ImageRecord:
    return ImageRecord(
        path=row.path,
        product_id=row.product_id,
        content_hash=row.content_hash,
        size_bytes=int(row.size_bytes),
        embedding_model=row.embedding_model,
        id=int(row.id),
        source=row.source,
    )


def _values(record: ImageRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _FIELDS}


class SqlRepository:
    """Image metadata and key/value facts in one SQL database named by a SQLAlchemy URL."""

    def __init__(self, database_url: str) -> None:
        self._engine = make_engine(database_url)
        self._where = self._engine.url.render_as_string(hide_password=True)
        with self._begin() as conn:
            metadata.create_all(conn)
            upgrade_schema(conn)

    def close(self) -> None:
        """Release pooled connections (the object must not be used afterwards)."""
        self._engine.dispose()

    def list_images(self, product_id: str | None = None) -> list[ImageRecord]:
        query = select(images).order_by(images.c.id)
        if product_id is not None:
            query = query.where(images.c.product_id == product_id)
        with self._begin() as conn:
            return [_record(row) for row in conn.execute(query)]

    def get_images(self, ids: Iterable[int]) -> dict[int, ImageRecord]:
        wanted = sorted({int(i) for i in ids})
        found: dict[int, ImageRecord] = {}
        with self._begin() as conn:
            for chunk in chunked(wanted):
                for row in conn.execute(select(images).where(images.c.id.in_(chunk))):
                    found[int(row.id)] = _record(row)
        return found

    def upsert_images(self, records: list[ImageRecord]) -> list[ImageRecord]:
        """Insert new paths, update changed ones (the last record of a repeated path wins)."""
        latest = {record.path: record for record in records}
        now = datetime.now(UTC)
        with self._begin() as conn:
            stored = self._by_path(conn, list(latest))
            changed = [
                {"b_id": stored[path].id, **_values(record), "updated_at": now}
                for path, record in latest.items()
                if path in stored and _values(stored[path]) != _values(record)
            ]
            new = [
                {"path": path, **_values(record), "created_at": now, "updated_at": now}
                for path, record in latest.items()
                if path not in stored
            ]
            if changed:
                conn.execute(
                    update(images).where(images.c.id == bindparam("b_id")),
                    changed,
                )
            if new:
                conn.execute(images.insert(), new)
                stored.update(self._by_path(conn, [row["path"] for row in new]))
        return [replace(record, id=stored[record.path].id) for record in records]

    def delete_images(self, ids: Iterable[int]) -> None:
        doomed = sorted({int(i) for i in ids})
        with self._begin() as conn:
            for chunk in chunked(doomed):
                conn.execute(images.delete().where(images.c.id.in_(chunk)))

    def count_images(self) -> int:
        with self._begin() as conn:
            return int(conn.execute(select(func.count()).select_from(images)).scalar_one())

    def product_counts(self) -> dict[str, int]:
        """Number of images per product id, ordered by product id."""
        query = (
            select(images.c.product_id, func.count().label("n"))
            .group_by(images.c.product_id)
            .order_by(images.c.product_id)
        )
        with self._begin() as conn:
            return {row.product_id: int(row.n) for row in conn.execute(query)}

    def source_counts(self) -> dict[str, dict[str, int]]:
        """Images per product id and source, ordered by product id."""
        query = (
            select(images.c.product_id, images.c.source, func.count().label("n"))
            .group_by(images.c.product_id, images.c.source)
            .order_by(images.c.product_id, images.c.source)
        )
        counts: dict[str, dict[str, int]] = {}
        with self._begin() as conn:
            for row in conn.execute(query):
                counts.setdefault(row.product_id, {})[row.source] = int(row.n)
        return counts

    def mark_class_removed(self, class_name: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(removed_classes).where(removed_classes.c.class_name == class_name))
            conn.execute(
                removed_classes.insert().values(class_name=class_name, removed_at=datetime.now(UTC))
            )

    def mark_images_removed(self, records: list[ImageRecord]) -> None:
        latest = {r.path: r.product_id for r in records}
        now = datetime.now(UTC)
        with self._begin() as conn:
            for chunk in chunked(list(latest)):
                conn.execute(delete(removed_images).where(removed_images.c.path.in_(chunk)))
            if latest:
                rows = [{"path": p, "class_name": c, "removed_at": now} for p, c in latest.items()]
                conn.execute(removed_images.insert(), rows)

    def clear_removals(self, class_name: str) -> None:
        with self._begin() as conn:
            conn.execute(delete(removed_classes).where(removed_classes.c.class_name == class_name))
            conn.execute(delete(removed_images).where(removed_images.c.class_name == class_name))

    def removals(self) -> Removals:
        with self._begin() as conn:
            classes = conn.execute(select(removed_classes.c.class_name)).scalars()
            paths = conn.execute(select(removed_images.c.path)).scalars()
            return Removals(frozenset(classes), frozenset(paths))

    def set_meta(self, key: str, value: str) -> None:
        with self._begin() as conn:
            result = conn.execute(update(meta).where(meta.c.key == key).values(value=value))
            if result.rowcount == 0:
                conn.execute(meta.insert().values(key=key, value=value))

    def get_meta(self, key: str) -> str | None:
        with self._begin() as conn:
            return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """One transaction; a database that cannot be reached becomes BackendUnavailable."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except (OperationalError, InterfaceError) as exc:
            raise BackendUnavailable(f"database {self._where} unavailable: {exc.orig}") from exc

    @staticmethod
    def _by_path(conn: Connection, paths: Sequence[str]) -> dict[str, ImageRecord]:
        stored: dict[str, ImageRecord] = {}
        for chunk in chunked(paths):
            for row in conn.execute(select(images).where(images.c.path.in_(chunk))):
                stored[row.path] = _record(row)
        return stored

"""Repository port on SQLAlchemy 2 Core: portable SQL (SQLite, PostgreSQL), bound parameters only.

Every public method is one transaction (`engine.begin()`): committed on return, rolled back on
error. The schema is created and upgraded by Alembic migrations when the repository opens
(schema.py). PostgreSQL connections come from a pool (size and overflow are arguments).
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    delete,
    func,
    select,
    text,
    update,
)

from app.domain.gallery import Removals
from app.domain.models import ImageRecord
from app.infrastructure.database import schema
from app.infrastructure.database.engine import WRITE_OPTION, chunked, make_engine
from app.infrastructure.database.tables import images, meta, removed_classes, removed_images
from app.infrastructure.database.transactions import transaction

_UPSERTING = ("postgresql", "sqlite")  # dialects with INSERT ... ON CONFLICT DO UPDATE
_FIELDS = ("product_id", "content_hash", "size_bytes", "embedding_model", "source", "parent_id")
_FIELDS += ("folder", "mtime_ns")


# an ImageRecord's columns in its field order; not the timestamps (parsing two per row doubled
# the time to list 10,000 rows, which every rebuild does)
_COLUMNS = tuple(images.c[field.name] for field in fields(ImageRecord))


def _record(row: Any) -> ImageRecord:
    path, product, digest, size, stamp, id_, source, parent, box, folder, mtime = row
    return ImageRecord(
        path, product, digest, int(size), stamp, int(id_), source,
        int(parent) if parent is not None else None,
        tuple(int(v) for v in box.split(",")) if box else None,  # type: ignore[arg-type]
        folder, mtime,
    )  # fmt: skip


def _values(record: ImageRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["box"] = ",".join(str(int(v)) for v in record.box) if record.box else None
    return values


class SqlRepository:
    """Image metadata and key/value facts in one SQL database named by a SQLAlchemy URL."""

    def __init__(self, database_url: str, pool_size: int = 5, max_overflow: int = 10) -> None:
        self._engine = make_engine(database_url, pool_size, max_overflow)
        with self._begin() as conn:  # a current database: no write lock, no Alembic
            current = schema.is_current(conn)
        if not current:
            with self._begin(write=True) as conn:
                schema.upgrade(conn)

    @property
    def engine(self) -> Engine:
        """The engine, shared with the feedback store (same database, same schema)."""
        return self._engine

    def close(self) -> None:
        """Release pooled connections (the object must not be used afterwards)."""
        self._engine.dispose()

    def list_images(self, product_id: str | None = None) -> list[ImageRecord]:
        query = select(*_COLUMNS).order_by(images.c.id)
        if product_id is not None:
            query = query.where(images.c.product_id == product_id)
        with self._begin() as conn:
            return [_record(row) for row in conn.execute(query)]

    def image_ids(
        self, products: Collection[str] | None = None, under: str | None = None
    ) -> list[int]:
        """Ids of the images of these products and/or in folder `under` or below it."""
        query = select(images.c.id).order_by(images.c.id)
        if under is not None:
            inside = images.c.folder.startswith(f"{under}/", autoescape=True)
            query = query.where((images.c.folder == under) | inside)
        found: list[int] = []
        with self._begin() as conn:
            if products is None:
                return [int(i) for i in conn.execute(query).scalars()]
            for chunk in chunked(sorted(set(products))):
                chunk_query = query.where(images.c.product_id.in_(chunk))
                found += [int(i) for i in conn.execute(chunk_query).scalars()]
        return sorted(found)

    def get_images(self, ids: Iterable[int]) -> dict[int, ImageRecord]:
        wanted = sorted({int(i) for i in ids})
        found: dict[int, ImageRecord] = {}
        with self._begin() as conn:
            for chunk in chunked(wanted):
                for row in conn.execute(select(*_COLUMNS).where(images.c.id.in_(chunk))):
                    record = _record(row)
                    found[int(record.id)] = record  # type: ignore[arg-type]
        return found

    def upsert_images(self, records: list[ImageRecord]) -> list[ImageRecord]:
        """Insert new paths, update changed ones (the last record of a repeated path wins)."""
        latest = {record.path: record for record in records}
        now = datetime.now(UTC)
        with self._begin(write=True) as conn:
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

    def restore_images(self, records: list[ImageRecord]) -> None:
        """Insert records keeping their ids (moving databases); an id or path present: error."""
        if not records:
            return
        now = datetime.now(UTC)
        rows = [
            {"id": r.id, "path": r.path, **_values(r), "created_at": now, "updated_at": now}
            for r in records
        ]
        if any(row["id"] is None for row in rows):
            raise ValueError("restore_images needs records with ids")
        with self._begin(write=True) as conn:
            conn.execute(images.insert(), rows)
            if conn.dialect.name == "postgresql":  # new rows must not reuse a restored id
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('images', 'id'), "
                        "(SELECT MAX(id) FROM images))"
                    )
                )

    def delete_images(self, ids: Iterable[int]) -> None:
        doomed = sorted({int(i) for i in ids})
        with self._begin(write=True) as conn:
            for chunk in chunked(doomed):
                conn.execute(images.delete().where(images.c.id.in_(chunk)))

    def unstamp_images(self, ids: Iterable[int]) -> None:
        """Mark rows as not embedded (their vectors are about to leave the index)."""
        doomed = sorted({int(i) for i in ids})
        if not doomed:
            return
        with self._begin(write=True) as conn:
            for chunk in chunked(doomed):
                conn.execute(
                    update(images).where(images.c.id.in_(chunk)).values(embedding_model=None)
                )

    def count_images(self, embedding_model: str | None = None) -> int:
        query = select(func.count()).select_from(images)
        if embedding_model is not None:
            query = query.where(images.c.embedding_model == embedding_model)
        with self._begin() as conn:
            return int(conn.execute(query).scalar_one())

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
        with self._begin(write=True) as conn:
            conn.execute(delete(removed_classes).where(removed_classes.c.class_name == class_name))
            conn.execute(
                removed_classes.insert().values(class_name=class_name, removed_at=datetime.now(UTC))
            )

    def mark_images_removed(self, records: list[ImageRecord]) -> None:
        latest = {r.path: r.product_id for r in records}
        now = datetime.now(UTC)
        with self._begin(write=True) as conn:
            for chunk in chunked(list(latest)):
                conn.execute(delete(removed_images).where(removed_images.c.path.in_(chunk)))
            if latest:
                rows = [{"path": p, "class_name": c, "removed_at": now} for p, c in latest.items()]
                conn.execute(removed_images.insert(), rows)

    def clear_removals(self, class_name: str) -> None:
        with self._begin(write=True) as conn:
            conn.execute(delete(removed_classes).where(removed_classes.c.class_name == class_name))
            conn.execute(delete(removed_images).where(removed_images.c.class_name == class_name))

    def removals(self, class_name: str | None = None) -> Removals:
        classes = select(removed_classes.c.class_name)
        paths = select(removed_images.c.path)
        if class_name is not None:
            classes = classes.where(removed_classes.c.class_name == class_name)
            paths = paths.where(removed_images.c.class_name == class_name)
        with self._begin() as conn:
            return Removals(
                frozenset(conn.execute(classes).scalars()), frozenset(conn.execute(paths).scalars())
            )

    def set_meta(self, key: str, value: str) -> None:
        with self._begin(write=True) as conn:
            if conn.dialect.name not in _UPSERTING:  # another database: update, else insert
                result = conn.execute(update(meta).where(meta.c.key == key).values(value=value))
                if result.rowcount == 0:
                    conn.execute(meta.insert().values(key=key, value=value))
                return
            # the engine's own dialect module (already imported: a SQLite start skips PostgreSQL's)
            dialect = importlib.import_module(f"sqlalchemy.dialects.{conn.dialect.name}")
            upsert = dialect.insert(meta).values(key=key, value=value)
            conn.execute(
                upsert.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value})
            )

    def get_meta(self, key: str) -> str | None:
        with self._begin() as conn:
            return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()

    def all_meta(self) -> dict[str, str]:
        with self._begin() as conn:
            return {row.key: row.value for row in conn.execute(select(meta).order_by(meta.c.key))}

    def _begin(self, write: bool = False) -> AbstractContextManager[Connection]:
        """One transaction (`write`: it changes rows); outages and full disks become our errors
        (transactions.py)."""
        engine = self._engine.execution_options(**{WRITE_OPTION: True}) if write else self._engine
        return transaction(engine)

    @staticmethod
    def _by_path(conn: Connection, paths: Sequence[str]) -> dict[str, ImageRecord]:
        stored: dict[str, ImageRecord] = {}
        for chunk in chunked(paths):
            for row in conn.execute(select(*_COLUMNS).where(images.c.path.in_(chunk))):
                stored[row.path] = _record(row)
        return stored

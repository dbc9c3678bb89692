"""Alembic migrations: applied at start-up on SQLite and PostgreSQL, no drift from tables.py,
databases made before migrations are stamped, replicas starting together do not collide."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from app.domain.models import ImageRecord
from app.infrastructure.database import schema
from app.infrastructure.database.sql_repository import SqlRepository, make_engine
from app.infrastructure.database.tables import images, metadata


@pytest.fixture(params=["sqlite-file", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'app.db'}"


def schema_drift(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return schema.current_revision(conn)
    finally:
        engine.dispose()


def test_new_database_is_migrated_to_head_without_drift(database_url):
    SqlRepository(database_url).close()
    assert revision(database_url) == schema.head_revision()
    assert schema_drift(database_url) == []


def test_database_made_before_migrations_is_stamped_and_kept(database_url):
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:  # what create_all made before Alembic was used
        metadata.create_all(conn)
        conn.execute(
            images.insert().values(
                path="a.jpg", product_id="p", content_hash="h", size_bytes=1,
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
    engine.dispose()
    assert revision(database_url) is None
    repo = SqlRepository(database_url)
    try:
        assert [r.path for r in repo.list_images()] == ["a.jpg"]
    finally:
        repo.close()
    assert revision(database_url) == schema.head_revision()
    assert schema_drift(database_url) == []


def test_opening_a_current_database_runs_no_migration(database_url, monkeypatch):
    SqlRepository(database_url).close()
    monkeypatch.setattr(command, "upgrade", _must_not_run)
    monkeypatch.setattr(command, "stamp", _must_not_run)
    SqlRepository(database_url).close()


def test_the_head_read_from_the_migration_files_is_alembics():
    """Start-up compares the database with the head found in the files' text, without Alembic."""
    script = ScriptDirectory.from_config(schema.alembic_config())
    assert schema.head_revision() == script.get_current_head()


def _must_not_run(*args, **kwargs):
    raise AssertionError("no migration expected")


def test_replicas_starting_together_on_postgresql(postgres_url):
    errors: list[BaseException] = []
    repos: list[SqlRepository] = []

    def start() -> None:
        try:
            repos.append(SqlRepository(postgres_url))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for repo in repos:
        repo.close()
    assert errors == []
    assert revision(postgres_url) == schema.head_revision()


def test_migrations_create_the_tables_in_the_search_path_schema(postgres_url):
    SqlRepository(postgres_url).close()
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar()
        assert {"images", "meta", "alembic_version"} <= set(
            inspect(conn).get_table_names(schema=current)
        )
    engine.dispose()


def test_first_release_database_gains_the_gallery_schema(database_url):
    """Tables as the first release made them (revision 0001), without alembic_version."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(
            text(
                "INSERT INTO images (path, product_id, content_hash, size_bytes, created_at, "
                "updated_at) VALUES ('a.jpg', 'p', 'h', 1, :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()
    repo = SqlRepository(database_url)
    try:
        (row,) = repo.list_images()
        assert row.source == "catalogue"
        repo.mark_class_removed("hat")
    finally:
        repo.close()
    assert revision(database_url) == schema.head_revision()
    assert schema_drift(database_url) == []


def test_a_migration_cut_short_leaves_nothing_behind(database_url, monkeypatch):
    """Creating the schema is one transaction: a crash in the middle (here: an error after the
    tables were made, before the commit) leaves an empty database that the next start migrates."""
    real_upgrade = command.upgrade

    def upgrade_then_crash(config, revision):
        real_upgrade(config, revision)
        raise RuntimeError("killed before the commit")

    monkeypatch.setattr(command, "upgrade", upgrade_then_crash)
    with pytest.raises(RuntimeError, match="killed"):
        SqlRepository(database_url)
    monkeypatch.setattr(command, "upgrade", real_upgrade)
    engine = make_engine(database_url)
    try:
        assert not {"images", "meta"} & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    SqlRepository(database_url).close()
    assert revision(database_url) == schema.head_revision()
    assert schema_drift(database_url) == []


def test_an_older_sqlite_database_stops_reusing_ids(tmp_path):
    """A database made before migration 0005 keeps its rows, indexes and ids, and from then on a
    deleted id is never reused (before it, SQLite handed out the last deleted id again)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), "0004")
        for name in ("a.jpg", "b.jpg", "c.jpg"):
            conn.execute(
                text(
                    "INSERT INTO images (path, product_id, content_hash, size_bytes, created_at, "
                    "updated_at) VALUES (:name, 'p', 'h', 1, '2026-01-01', '2026-01-01')"
                ),
                {"name": name},
            )
    engine.dispose()
    repo = SqlRepository(url)
    try:
        assert [r.id for r in repo.list_images()] == [1, 2, 3]
        repo.delete_images([3])
        (new,) = repo.upsert_images([ImageRecord("d.jpg", "p", "h", 1)])
        assert new.id == 4
    finally:
        repo.close()
    assert revision(url) == schema.head_revision()
    assert schema_drift(url) == []


def test_earlier_uploads_stop_being_a_class(tmp_path):
    """Photos that POST /upload stored as examples of "uploads" (and crops cut from them) become
    uploads: searchable, never learnt by classification by retrieval."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = make_engine(url)
    rows = [("u.jpg", "uploads", "example", None), ("c.jpg", "uploads", "crop", 1),
            ("s.jpg", "shoes", "example", None), ("k.jpg", "shoes", "catalogue", None)]  # fmt: skip
    with engine.begin() as conn:
        command.upgrade(schema.alembic_config(conn), "0006")
        for path, product, source, parent in rows:
            conn.execute(
                text(
                    "INSERT INTO images (path, product_id, content_hash, size_bytes, source, "
                    "parent_id, created_at, updated_at) VALUES (:path, :product, 'h', 1, "
                    ":source, :parent, '2026-01-01', '2026-01-01')"
                ),
                {"path": path, "product": product, "source": source, "parent": parent},
            )
    engine.dispose()
    repo = SqlRepository(url)
    try:
        sources = {r.path: r.source for r in repo.list_images()}
    finally:
        repo.close()
    assert sources == {"u.jpg": "upload", "c.jpg": "upload", "s.jpg": "example",
                       "k.jpg": "catalogue"}  # fmt: skip

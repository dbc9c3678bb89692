"""Schema migrations with Alembic: `upgrade(connection)` brings a database to the newest revision.

Migrations live in migrations/versions/ (see CONTRIBUTING.md: "Changing the database schema").
A database created before Alembic was used (tables present, no alembic_version) holds the schema
of revision BASELINE and is stamped with it first. On PostgreSQL, an advisory lock held for the
transaction makes replicas that start together upgrade one after the other.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
BASELINE = "0001"  # the schema that tables.py created before migrations existed
VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x696D672D7265  # any constant shared by every replica ("img-re")
_REVISION = re.compile(r"^revision\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\s*=\s*[\"'](\w+)[\"']", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config  # Alembic only when a migration runs (~0.2 s to import)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision: the one no migration file names as its `down_revision` (read from
    the files' text, so that opening a current database needs no Alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        parents.update(_DOWN_REVISION.findall(source))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision in {MIGRATIONS}, found {heads}")
    return heads[0]


def current_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(connection: Connection) -> bool:
    return current_revision(connection) == head_revision()


def upgrade(connection: Connection) -> None:
    """Create or upgrade the schema inside the caller's transaction (a no-op when current)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    if is_current(connection):
        return
    from alembic import command

    config = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "images" in tables and VERSION_TABLE not in tables:
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")

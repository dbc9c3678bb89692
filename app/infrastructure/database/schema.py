"""Schema migrations with Alembic: `upgrade(connection)` brings a database to the newest revision.

Migrations live in migrations/versions/ (see CONTRIBUTING.md: "Changing the database schema").
A database created before Alembic was used (tables present, no alembic_version) holds the schema
of revision BASELINE and is stamped with it first. On PostgreSQL, an advisory lock held for the
transaction makes replicas that start together upgrade one after the other.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
BASELINE = "0001"  # the schema that tables.py created before migrations existed
VERSION_TABLE = "alembic_version"
_PG_LOCK_KEY = 0x696D672D7265  # any constant shared by every replica ("img-re")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(connection: Connection) -> None:
    """Create or upgrade the schema inside the caller's transaction (a no-op when current)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    if current_revision(connection) == head_revision():
        return
    config = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "images" in tables and VERSION_TABLE not in tables:
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")

"""Bring a database made by an earlier version up to the current tables, in place.

Idempotent and portable (SQLite, PostgreSQL): each step checks what is there first. New tables
come from `metadata.create_all`; this adds what `create_all` cannot, the columns added to existing
tables. A migration framework can take over later; until then keep each step small.
"""

from __future__ import annotations

from sqlalchemy import Connection, inspect, text

from app.domain.models import CATALOGUE

# (table, column, SQL type and default): columns added after the first release
_ADDED_COLUMNS = (("images", "source", f"VARCHAR(16) NOT NULL DEFAULT '{CATALOGUE}'"),)


def upgrade_schema(conn: Connection) -> list[str]:
    """Add missing columns; returns "table.column" for each one added."""
    added = []
    for table, column, definition in _ADDED_COLUMNS:
        present = {c["name"] for c in inspect(conn).get_columns(table)}
        if column in present:
            continue
        guard = "IF NOT EXISTS " if conn.dialect.name == "postgresql" else ""
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {guard}{column} {definition}"))
        added.append(f"{table}.{column}")
    return added

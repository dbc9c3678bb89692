"""Ids are never reused: the SQLite tables with generated ids become AUTOINCREMENT.

Without it SQLite gives the id of the last deleted row to the next new one, so a verdict, a
`more_like` id or a retried removal would silently name another photo. PostgreSQL sequences never
go back: nothing to do there. The rows are copied into the rebuilt table with their ids, and SQLite
starts the sequence after the largest of them.

Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

TABLES = ("images", "feedback")


def _autoincrements(bind: sa.Connection, table: str) -> bool:
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar()
    return "AUTOINCREMENT" in (sql or "").upper()


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for table in TABLES:
        if _autoincrements(bind, table) == autoincrement:
            continue  # made by create_all of a newer tables.py
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)

"""Steps the migrations share: each adds only what a database lacks.

Databases made before migrations (create_all of an older or newer tables.py, the former in-place
upgrade) are stamped with a revision whose changes may be partly there, so every step checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from alembic import op


def add_missing(
    table: str, columns: Sequence[sa.Column] = (), indexes: Mapping[str, list[str]] | None = None
) -> None:
    """Add those of `columns` and `indexes` (name -> indexed columns) the table lacks."""
    inspector = sa.inspect(op.get_bind())
    present = {c["name"] for c in inspector.get_columns(table)}
    indexed = {i["name"] for i in inspector.get_indexes(table)}
    with op.batch_alter_table(table) as batch:
        for column in columns:
            if column.name not in present:
                batch.add_column(column)
        for name, on in (indexes or {}).items():
            if name not in indexed:
                batch.create_index(name, on)


def create_missing_table(
    name: str, *columns: sa.Column | sa.Constraint, indexes: Mapping[str, list[str]] | None = None
) -> None:
    """Create the table with its indexes, unless it is there (made by create_all already)."""
    if name in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(name, *columns)
    for index, on in (indexes or {}).items():
        op.create_index(index, name, on)

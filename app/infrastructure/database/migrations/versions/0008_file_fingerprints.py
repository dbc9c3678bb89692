"""File fingerprints: images.mtime_ns, the modification time (ns) of a catalogue file when it was
hashed. With size_bytes it lets `rebuild` reuse the stored content hash of a file whose size and
mtime have not changed instead of reading it again; NULL (rows made before, examples, crops)
means "hash it".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("images")}
    if "mtime_ns" not in columns:
        with op.batch_alter_table("images") as batch:
            batch.add_column(sa.Column("mtime_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("mtime_ns")

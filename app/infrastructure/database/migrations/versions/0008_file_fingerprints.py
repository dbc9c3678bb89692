"""File fingerprints: images.mtime_ns, the modification time (ns) of a catalogue file when it was
hashed. With size_bytes it lets `rebuild` reuse the stored content hash of a file whose size and
mtime have not changed instead of reading it again; NULL (rows made before, examples, crops)
means "hash it".

Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.infrastructure.database.migration_steps import add_missing

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    add_missing("images", [sa.Column("mtime_ns", sa.BigInteger(), nullable=True)])


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("mtime_ns")

"""Object crops: images.parent_id (the image a crop was cut from) and images.box.

Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.infrastructure.database.migration_steps import add_missing

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    add_missing(
        "images",
        [
            sa.Column("parent_id", sa.BigInteger(), nullable=True),
            sa.Column("box", sa.String(64), nullable=True),
        ],
        {"ix_images_parent_id": ["parent_id"]},
    )


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_index("ix_images_parent_id")
        batch.drop_column("box")
        batch.drop_column("parent_id")

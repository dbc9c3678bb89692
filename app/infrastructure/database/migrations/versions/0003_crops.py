"""Object crops: images.parent_id (the image a crop was cut from) and images.box.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("images")}
    indexes = {i["name"] for i in inspector.get_indexes("images")}
    with op.batch_alter_table("images") as batch:  # each step checks, as 0002 does
        if "parent_id" not in columns:
            batch.add_column(sa.Column("parent_id", sa.BigInteger(), nullable=True))
        if "box" not in columns:
            batch.add_column(sa.Column("box", sa.String(64), nullable=True))
        if "ix_images_parent_id" not in indexes:
            batch.create_index("ix_images_parent_id", ["parent_id"])


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_index("ix_images_parent_id")
        batch.drop_column("box")
        batch.drop_column("parent_id")

"""Filtered search: images.folder, the folder of a catalogue file relative to the products folder.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    columns = {c["name"] for c in inspector.get_columns("images")}
    indexes = {i["name"] for i in inspector.get_indexes("images")}
    with op.batch_alter_table("images") as batch:  # each step checks, as 0002 does
        if "folder" not in columns:
            batch.add_column(sa.Column("folder", sa.Text(), nullable=True))
        if "ix_images_folder" not in indexes:
            batch.create_index("ix_images_folder", ["folder"])


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_index("ix_images_folder")
        batch.drop_column("folder")

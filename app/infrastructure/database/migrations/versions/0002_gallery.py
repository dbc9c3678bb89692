"""Gallery: images.source ("catalogue" / "example"), removed_classes and removed_images.

Databases made before migrations by a version that already had some of this (create_all plus the
former in-place upgrade) are stamped 0001 first, so each step checks what is there.

Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.infrastructure.database.migration_steps import add_missing, create_missing_table

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    add_missing(
        "images", [sa.Column("source", sa.String(16), nullable=False, server_default="catalogue")]
    )
    create_missing_table(
        "removed_classes",
        sa.Column("class_name", sa.Text(), primary_key=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
    )
    create_missing_table(
        "removed_images",
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("class_name", sa.Text(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        indexes={"ix_removed_images_class_name": ["class_name"]},
    )


def downgrade() -> None:
    op.drop_index("ix_removed_images_class_name", table_name="removed_images")
    op.drop_table("removed_images")
    op.drop_table("removed_classes")
    with op.batch_alter_table("images") as batch:
        batch.drop_column("source")

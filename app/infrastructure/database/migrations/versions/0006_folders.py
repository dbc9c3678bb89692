"""Filtered search: images.folder, the folder of a catalogue file relative to the products folder.

Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.infrastructure.database.migration_steps import add_missing

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    add_missing(
        "images", [sa.Column("folder", sa.Text(), nullable=True)], {"ix_images_folder": ["folder"]}
    )


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_index("ix_images_folder")
        batch.drop_column("folder")

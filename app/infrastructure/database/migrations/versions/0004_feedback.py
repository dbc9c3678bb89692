"""Feedback: users' verdicts on search and classification results.

Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.infrastructure.database.migration_steps import create_missing_table

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    create_missing_table(  # create_all of a newer tables.py may have made it
        "feedback",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("query_hash", sa.String(length=128), nullable=False),
        sa.Column("query_vector", sa.LargeBinary(), nullable=False),
        sa.Column("query_ref", sa.Text(), nullable=True),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("image_id", sa.BigInteger(), nullable=True),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("model_stamp", sa.Text(), nullable=False),
        sa.Column("promoted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes={
            "ix_feedback_product_id": ["product_id"],
            "ix_feedback_query_hash": ["query_hash"],
        },
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_query_hash", table_name="feedback")
    op.drop_index("ix_feedback_product_id", table_name="feedback")
    op.drop_table("feedback")

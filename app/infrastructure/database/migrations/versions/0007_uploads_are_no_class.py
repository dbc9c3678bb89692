"""Uploads are no class: photos stored by POST /upload without a class (product id "uploads",
source "example") and the crops cut from them get source "upload", which classification by
retrieval leaves out; they stay searchable.

Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

_images = sa.table(
    "images",
    sa.column("id", sa.BigInteger),
    sa.column("product_id", sa.String),
    sa.column("source", sa.String),
    sa.column("parent_id", sa.BigInteger),
)


def upgrade() -> None:
    uploads = sa.select(_images.c.id).where(
        _images.c.product_id == "uploads", _images.c.source == "example"
    )
    ids = [row.id for row in op.get_bind().execute(uploads)]
    if not ids:
        return
    op.execute(
        _images.update()
        .where(sa.or_(_images.c.id.in_(ids), _images.c.parent_id.in_(ids)))
        .where(_images.c.product_id == "uploads")
        .values(source="upload")
    )


def downgrade() -> None:
    op.execute(
        _images.update()
        .where(_images.c.source == "upload", _images.c.parent_id.is_(None))
        .values(source="example")
    )
    op.execute(_images.update().where(_images.c.source == "upload").values(source="crop"))

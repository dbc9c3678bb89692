"""SQLAlchemy Core tables (portable types: SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" aliases the rowid
# and so autoincrements.
_ID = BigInteger().with_variant(Integer(), "sqlite")

images = Table(
    "images",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False, unique=True),
    Column("product_id", Text, nullable=False, index=True),
    Column("content_hash", String(128), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("embedding_model", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

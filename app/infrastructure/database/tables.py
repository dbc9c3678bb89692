"""SQLAlchemy Core tables (portable types: SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from app.domain.models import CATALOGUE

metadata = MetaData()

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" aliases the rowid
# and so autoincrements. Ids are never reused: PostgreSQL sequences never go back, and on SQLite the
# tables are AUTOINCREMENT (migration 0005), so a deleted example's id never names a new one.
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
    # "catalogue" (managed by rebuild) or "example" (added by the class commands); added to
    # databases made before it by migration 0002
    Column("source", String(16), nullable=False, server_default=CATALOGUE),
    # object crops (`segment`): the image a crop was cut from and where ("x0,y0,x1,y1");
    # added by migration 0003
    Column("parent_id", BigInteger, nullable=True, index=True),
    Column("box", String(64), nullable=True),
    # the folder holding a catalogue file, relative to the products folder ("Fruit/Apple"), for
    # `query --under`; added by migration 0006
    Column("folder", Text, nullable=True, index=True),
    # catalogue files: the modification time (ns) when the file was hashed, so that `rebuild`
    # reads only files whose size or mtime changed; added by migration 0008
    Column("mtime_ns", BigInteger, nullable=True),
    sqlite_autoincrement=True,
)

# What the class commands removed from the gallery, so that `rebuild` does not bring it back:
# whole classes (catalogue folders) and single catalogue files.
removed_classes = Table(
    "removed_classes",
    metadata,
    Column("class_name", Text, primary_key=True),
    Column("removed_at", DateTime(timezone=True), nullable=False),
)

removed_images = Table(
    "removed_images",
    metadata,
    Column("path", Text, primary_key=True),
    Column("class_name", Text, nullable=False, index=True),
    Column("removed_at", DateTime(timezone=True), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("value", Text, nullable=False),
)

# Users' verdicts on results (migration 0004): the query (content hash, float32 embedding bytes,
# stored copy of the image), the judged product and catalogue image, good/bad, the model stamp.
feedback = Table(
    "feedback",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("query_hash", String(128), nullable=False, index=True),
    Column("query_vector", LargeBinary, nullable=False),
    Column("query_ref", Text, nullable=True),
    Column("product_id", Text, nullable=False, index=True),
    Column("image_id", BigInteger, nullable=True),
    Column("verdict", String(8), nullable=False),
    Column("note", Text, nullable=True),
    Column("model_stamp", Text, nullable=False),
    Column("promoted", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

"""Alembic environment.

At start-up the repository hands over its open connection (`config.attributes["connection"]`,
see schema.py). From the `alembic` command line (alembic.ini at the repository root) the database
is `-x url=...`, else the DATABASE_URL environment variable, else sqlite:///./data/app.db.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from app.infrastructure.database.tables import metadata

config = context.config


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def command_line_url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    return given or os.environ.get("DATABASE_URL") or "sqlite:///./data/app.db"


handed_over = config.attributes.get("connection")
if handed_over is not None:
    run_on(handed_over)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    if context.is_offline_mode():
        context.configure(url=command_line_url(), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        from app.infrastructure.database.engine import make_engine

        engine = make_engine(command_line_url())
        with engine.begin() as conn:
            run_on(conn)
        engine.dispose()

"""The `migrate` command: copy vectors and/or rows to other back ends (see services/migrate.py)."""

from __future__ import annotations

import argparse

from app.cli import render
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_OK
from app.domain.choices import FaissIndexKind, VectorStoreKind, names
from app.domain.errors import ConfigError


def migrate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", choices=names(VectorStoreKind), help="vector store to copy to")
    p.add_argument("--faiss-index", choices=names(FaissIndexKind), help="with --to faiss")
    p.add_argument("--qdrant-url", metavar="URL", help="with --to qdrant: a server (QDRANT_URL)")
    p.add_argument(
        "--database-url", metavar="URL", help="database to copy rows to (postgresql+psycopg://...)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace what the target holds")


def migrate(args: argparse.Namespace, ctx: CliContext) -> int:
    changes = {"vector_store": args.to} if args.to else {}
    for name in ("faiss_index", "qdrant_url", "database_url"):
        if getattr(args, name):
            changes[name] = getattr(args, name)
    if not args.to and ({"faiss_index", "qdrant_url"} & set(changes)):
        raise ConfigError("--faiss-index and --qdrant-url need --to")
    if not changes:
        raise ConfigError("say what to migrate to: --to faiss|memory|qdrant and/or --database-url")
    report = ctx.container.migrate_service().run(changes, overwrite=args.overwrite)
    ctx.say(render.migration_summary(report, changes))
    return EXIT_OK

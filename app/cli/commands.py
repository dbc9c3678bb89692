"""The command table: each command defined once (arguments + handler), shared by the one-shot
CLI and the REPL. Handlers are thin: parse, call one service, render."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.cli import feedback_commands as fb
from app.cli import focus_commands as focus
from app.cli import gallery_commands as gallery
from app.cli import learning, render
from app.cli.classify_commands import classify, classify_args, train, train_args
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_OK, EXIT_SKIPPED
from app.cli.migrate_commands import migrate, migrate_args
from app.cli.parsing import UsageError, image_arg, positive_int
from app.disk_space import is_no_space, no_space_message
from app.domain.errors import StorageFull


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace, CliContext], int]
    in_repl: bool = True
    in_cli: bool = True


def _rebuild_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--products_dir",
        "--products-dir",
        dest="products_dir",
        type=Path,
        default=None,
        help="folder of product photos (default: PRODUCTS_DIR)",
    )
    p.add_argument("--full", action="store_true", help="re-embed everything")


def _rebuild(args: argparse.Namespace, ctx: CliContext) -> int:
    report = ctx.container.rebuild_service().run(args.products_dir, full=args.full)
    for line in render.skipped_lines(report.skipped):
        ctx.warn(line)
    ctx.say(render.rebuild_summary(report))
    return EXIT_SKIPPED if report.skipped else EXIT_OK


def _query_args(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--image", nargs="+", type=image_arg, metavar="P", help="image files or folders"
    )
    what.add_argument("--text", help="a text query (needs a text-image model such as CLIP)")
    p.add_argument(
        "--k", type=positive_int, default=None, help="number of results (default: TOP_K)"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line per query")
    p.add_argument("--show", type=Path, metavar="OUT.png", help="write a contact sheet")
    for dest, help_ in (
        ("more_like", "gallery image ids to move toward (Rocchio)"),
        ("less_like", "gallery image ids to move away from"),
    ):
        flags = (f"--{dest.replace('_', '-')}", f"--{dest}")
        p.add_argument(*flags, dest=dest, nargs="+", type=int, default=[], metavar="ID", help=help_)
    focus.focus_args(p)


def _query(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.container.search_service()
    if args.text is not None:
        if args.more_like or args.less_like:
            raise UsageError("--more-like / --less-like refine image queries only")
        results, skipped = [service.search_text(args.text, args.k, focus.search_options(args))], []
        ctx.last = None
    else:
        outcome = service.search_images(
            args.image,
            args.k,
            focus.search_options(args),
            more_like=args.more_like,
            less_like=args.less_like,
        )
        results, skipped = outcome.results, outcome.skipped
        fb.remember_search(ctx, results)
    for line in render.skipped_lines(skipped):
        ctx.warn(line)
    for result in results:
        ctx.say(render.result_json(result) if args.json else render.result_table(result))
    if args.show and results:
        from app.cli.contact_sheet import render_contact_sheet

        ctx.warn(f"contact sheet written to {render_contact_sheet(results, args.show)}")
    if not results and skipped:
        return 1
    return EXIT_SKIPPED if skipped else EXIT_OK


def _stats_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON object")


def _stats(args: argparse.Namespace, ctx: CliContext) -> int:
    stats = ctx.container.stats_service().get()
    ctx.say(render.stats_json(stats) if args.json else render.stats_text(stats))
    return EXIT_OK


def _cache_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=["list", "clear"])


def _cache(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.container.cache_service()
    if args.action == "clear":
        ctx.say(f"cleared {service.clear()} entries")
    else:
        ctx.say(render.cache_table(service.list()))
    return EXIT_OK


def _api_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")


def _api(args: argparse.Namespace, ctx: CliContext) -> int:
    import uvicorn

    from app.api.main import create_app

    base = f"http://{args.host}:{args.port}"
    ctx.say(f"web page: {base}/   API docs: {base}/docs")
    uvicorn.run(create_app(ctx.container), host=args.host, port=args.port)
    return EXIT_OK


def no_args(p: argparse.ArgumentParser) -> None:
    return None


COMMANDS: list[Command] = [
    Command("rebuild", "scan the products folder and update the index", _rebuild_args, _rebuild),
    Command("query", "find the catalogue images most like a photo or text", _query_args, _query),
    Command(
        "dedup",
        "near-duplicate and identical images; groups spanning products (conflicts) first",
        focus.dedup_args,
        focus.dedup,
    ),
    Command("stats", "what is in the catalogue and the index", _stats_args, _stats),
    Command(
        "classify",
        "what is this photo: category, attributes and catalogue class, with confidences",
        classify_args,
        classify,
    ),
    Command(
        "train",
        "train attribute heads on TRAINING_DIR/<category>/<attribute>/<class>/ photos",
        train_args,
        train,
    ),
    Command(
        "cache",
        "list or clear caches (query embeddings, model; embeddings kept on disk)",
        _cache_args,
        _cache,
    ),
    Command(
        "class",
        "classes of the gallery: add, update, remove, list",
        gallery.class_args,
        gallery.class_command,
    ),
    Command(
        "examples", "remove gallery examples by id", gallery.examples_args, gallery.examples_command
    ),
    Command(
        "calibrate",
        "pick the unclassifiable thresholds from labelled photos",
        gallery.calibrate_args,
        gallery.calibrate_command,
    ),
    Command(
        "split",
        "split DATA_DIR into train/val/test by ID (group), or keep its own train/val/test folders",
        learning.split_args,
        learning.split,
    ),
    Command(
        "evaluate",
        "Recall@K, Precision@K, mAP, per-class accuracy, confusion matrix",
        learning.evaluate_args,
        learning.evaluate,
    ),
    Command(
        "finetune",
        "fine-tune the embedding (ArcFace) on the train split, select on val",
        learning.finetune_args,
        learning.finetune,
    ),
    Command(
        "migrate",
        "copy vectors and/or rows to other back ends without re-embedding",
        migrate_args,
        migrate,
    ),
    Command(
        "feedback",
        "record a verdict (--query --product --good|--bad); list, stats, clear, promote, export",
        fb.feedback_args,
        fb.feedback,
    ),
    Command(
        "good",
        "mark ranks of the last query/classify result good",
        fb.verdict_args,
        fb.good,
        in_cli=False,
    ),
    Command(
        "bad",
        "mark ranks of the last query/classify result bad",
        fb.verdict_args,
        fb.bad,
        in_cli=False,
    ),
    Command("api", "serve the web page and HTTP API (/docs)", _api_args, _api, in_repl=False),
]


def build_parser(
    commands: list[Command],
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
    repl: bool = False,
) -> argparse.ArgumentParser:
    """One parser over `commands`; each command's handler lands in `args.handler`."""
    parser = parser_class(
        prog="" if repl else "python -m app.cli.main",
        description="img-recog: visual search over a folder of product photos",
        add_help=not repl,
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=parser_class
    )
    for command in commands:
        if (repl and command.in_repl) or (not repl and command.in_cli):
            child = sub.add_parser(command.name, help=command.help, description=command.help)
            command.configure(child)
            child.set_defaults(handler=command.handler)
    return parser


def dispatch(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        return args.handler(args, ctx)
    except OSError as exc:
        if is_no_space(exc):  # one line naming the device and the file, not a traceback
            raise StorageFull(no_space_message(exc.filename)) from exc
        raise

"""`feedback` (record, list, stats, clear, promote, export) and the REPL's `good N` / `bad N`,
which judge ranks of the last `query` or `classify` answer (kept in the CliContext)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli import render, render_feedback
from app.cli.context import CliContext, LastResult
from app.cli.exit_codes import EXIT_OK, EXIT_SKIPPED
from app.cli.parsing import UsageError, image_arg
from app.domain.classification import ImageClassification
from app.domain.feedback import BAD, GOOD
from app.domain.images import ImageInput
from app.domain.models import QueryResult
from app.services.feedback import Target

ACTIONS = ("list", "stats", "clear", "promote", "export")


def remember_search(ctx: CliContext, results: list[QueryResult]) -> None:
    """The last image query's hits become what `good N` / `bad N` judge."""
    ctx.last = None
    if results:
        last = results[-1]
        ranked = [Target(h.product_id, h.image_id) for h in last.hits]
        ctx.last = LastResult(ImageInput.file(last.query), ranked)


def remember_classification(
    ctx: CliContext, results: list[ImageClassification], shown: int
) -> None:
    """The last image's classes by retrieval that the table numbered (#1..#`shown`, most
    probable first) become what `good N` / `bad N` judge."""
    ctx.last = None
    if results and results[-1].retrieval is not None:
        classes = list(results[-1].retrieval.class_probabilities)[:shown]
        ctx.last = LastResult(ImageInput.file(results[-1].image), [Target(c) for c in classes])


def verdict_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("ranks", nargs="+", type=int, metavar="N", help="ranks in the last result")
    p.add_argument("--note", help="a note kept with the verdict")


def _judge(args: argparse.Namespace, ctx: CliContext, verdict: str) -> int:
    last = ctx.last
    if last is None or not last.ranked:
        raise UsageError(f"{verdict}: nothing to judge yet (run `query --image` or `classify`)")
    bad = [str(n) for n in args.ranks if not 1 <= n <= len(last.ranked)]
    if bad:
        raise UsageError(f"{verdict}: no rank {', '.join(bad)} (1..{len(last.ranked)})")
    targets = [last.ranked[n - 1] for n in dict.fromkeys(args.ranks)]
    judged = ctx.container.feedback_service().record(last.query, targets, verdict, args.note)
    ctx.say(render_feedback.recorded(judged))
    return EXIT_OK


def good(args: argparse.Namespace, ctx: CliContext) -> int:
    return _judge(args, ctx, GOOD)


def bad(args: argparse.Namespace, ctx: CliContext) -> int:
    return _judge(args, ctx, BAD)


def feedback_args(p: argparse.ArgumentParser) -> None:
    """`feedback --query IMG --product ID --good` records; `feedback ACTION` does the rest."""
    query = p.add_mutually_exclusive_group()
    query.add_argument("--query", type=image_arg, metavar="IMG", help="the query image judged")
    query.add_argument(
        "--query-id",
        "--query_id",
        dest="query_id",
        type=int,
        metavar="ID",
        help="a gallery image used as the query",
    )
    p.add_argument("--product", help="the product (class) judged")
    p.add_argument(
        "--image-id",
        "--image_id",
        dest="image_id",
        type=int,
        metavar="ID",
        help="the gallery image judged (a search hit)",
    )
    verdict = p.add_mutually_exclusive_group()
    verdict.add_argument("--good", dest="verdict", action="store_const", const=GOOD)
    verdict.add_argument("--bad", dest="verdict", action="store_const", const=BAD)
    p.add_argument("--note", help="a note kept with the verdict")
    sub = p.add_subparsers(dest="action", metavar="ACTION", help="omit to record a verdict")
    listed = sub.add_parser("list", help="the verdicts, newest first")
    listed.add_argument("--product", help="only the verdicts on this product (class)")
    listed.add_argument("--json", action="store_true", help="as JSON")
    sub.add_parser("stats", help="counts and the most disputed products").add_argument(
        "--json", action="store_true", help="as JSON"
    )
    sub.add_parser("clear", help="delete every verdict")
    sub.add_parser("promote", help="good verdicts' query images become class examples")
    export = sub.add_parser("export", help="write the judged queries as a class-folder tree")
    export.add_argument("directory", nargs="?", type=Path, help="where to write")


def feedback(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.action is None:
        return _record(args, ctx)
    if args.action == "export":
        if args.directory is None:
            raise UsageError("feedback export: give the directory to write")
        report = ctx.container.feedback_curation().export(args.directory)
        for line in render.skipped_lines(report.skipped):
            ctx.warn(line)
        ctx.say(render_feedback.export_summary(report))
        return EXIT_SKIPPED if report.skipped else EXIT_OK
    if args.action == "promote":
        report = ctx.container.feedback_curation().promote()
        for line in render.skipped_lines(report.skipped):
            ctx.warn(line)
        ctx.say(render_feedback.promote_summary(report))
        return EXIT_SKIPPED if report.skipped else EXIT_OK
    service = ctx.container.feedback_service()
    if args.action == "clear":
        ctx.say(f"cleared {service.clear()} verdicts")
    elif args.action == "stats":
        stats = service.stats()
        ctx.say(render_feedback.stats_json(stats) if args.json else render_feedback.stats(stats))
    else:
        judged = service.list(args.product)
        ctx.say(render_feedback.list_json(judged) if args.json else render_feedback.table(judged))
    return EXIT_OK


def _record(args: argparse.Namespace, ctx: CliContext) -> int:
    query = args.query if args.query is not None else args.query_id
    if query is None or args.verdict is None or (args.product is None and args.image_id is None):
        raise UsageError(
            "feedback: give --query IMG (or --query-id ID), --product ID (or --image-id ID) "
            "and --good or --bad; or one of: " + ", ".join(ACTIONS)
        )
    target = Target(args.product, args.image_id)
    judged = ctx.container.feedback_service().record(query, [target], args.verdict, args.note)
    ctx.say(render_feedback.recorded(judged))
    return EXIT_OK

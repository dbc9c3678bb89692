"""`classify` and `train`: arguments and thin handlers (listed in the command table)."""

from __future__ import annotations

import argparse

from app.cli import render, render_classify
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_SKIPPED
from app.cli.feedback_commands import remember_classification
from app.cli.options import add_config_options, config_from_args
from app.cli.parsing import UsageError, image_arg, positive_int
from app.domain.heads import TrainOptions


def classify_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--image",
        nargs="+",
        type=image_arg,
        metavar="P",
        required=True,
        help="image files or folders",
    )
    p.add_argument(
        "--use-trained",
        "--use_trained",
        dest="use_trained",
        action="store_true",
        help="use trained attribute heads where present (zero-shot for the others)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line per image")
    p.add_argument(
        "--k",
        type=positive_int,
        default=3,
        help="most likely classes listed per answer (default 3)",
    )


def classify(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.container.classify_service()
    outcome = service.classify_images(args.image, use_trained=args.use_trained)
    remember_classification(ctx, outcome.results, args.k)
    for line in render.skipped_lines(outcome.skipped):
        ctx.warn(line)
    if args.json:
        for result in outcome.results:
            ctx.say(render_classify.classification_json(result, args.k))
    elif outcome.results:
        ctx.say(render_classify.classification_tables(outcome.results, args.k))
    if not outcome.results and outcome.skipped:
        return EXIT_ERROR
    return EXIT_SKIPPED if outcome.skipped else EXIT_OK


def train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--category", help="category folder under TRAINING_DIR")
    p.add_argument("--attribute", help="attribute folder under TRAINING_DIR/<category>")
    p.add_argument("--all", action="store_true", help="train every attribute found")
    add_config_options(p, TrainOptions)


def train(args: argparse.Namespace, ctx: CliContext) -> int:
    named = args.category is not None or args.attribute is not None
    if args.all == named or (named and not (args.category and args.attribute)):
        raise UsageError("train: give --category C --attribute A, or --all")
    try:
        options = config_from_args(TrainOptions, args)
    except ValueError as exc:
        raise UsageError(f"train: {exc}") from None
    service = ctx.container.train_service()
    if args.all:
        reports = service.train_all(options)
    else:
        reports = [service.train(args.category, args.attribute, options)]
    skipped = [s for report in reports for s in report.skipped]
    for line in render.skipped_lines(skipped):
        ctx.warn(line)
    for report in reports:
        ctx.say(render_classify.train_summary(report))
    return EXIT_SKIPPED if skipped else EXIT_OK

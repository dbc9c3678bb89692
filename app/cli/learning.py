"""Arguments and thin handlers of `split`, `evaluate` and `finetune` (see commands.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.cli import render_learning as render
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_OK, EXIT_SKIPPED
from app.cli.options import add_config_options, config_from_args
from app.cli.parsing import UsageError, positive_int
from app.domain.choices import SplitName
from app.domain.duplicates import leak_warning
from app.domain.splits import SplitFractions
from app.domain.training import FinetuneConfig


def split_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data_dir",
        type=Path,
        metavar="DATA_DIR",
        help="DATA_DIR/<class>/<ID>_<n>.jpg, or DATA_DIR/{train,val,test}/.../<class>/*.jpg",
    )
    p.add_argument("--seed", type=int, default=0, help="same seed, same split (default 0)")
    p.add_argument("--val", type=float, default=0.15, help="share of images for val (0.15)")
    p.add_argument("--test", type=float, default=0.15, help="share of images for test (0.15)")
    p.add_argument(
        "--min-size",
        "--min_size",
        dest="min_size",
        default="224x224",
        metavar="WxH",
        help="a group with any smaller image is left out (default 224x224)",
    )
    p.add_argument(
        "--force", action="store_true", help="split again, replacing the split in SPLITS_DIR"
    )
    p.add_argument(
        "--resplit",
        action="store_true",
        help="ignore top-level train/ val/ test/ folders and split by group",
    )
    p.add_argument(
        "--no-leak-check",
        action="store_true",
        help="skip embedding the photos to find near-duplicates across splits",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")


def split(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.services.splitting import SplitOptions

    width, height = _size(args.min_size)
    try:
        fractions = SplitFractions(1.0 - args.val - args.test, args.val, args.test)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options = SplitOptions(
        args.seed, fractions, width, height, args.force, args.resplit, not args.no_leak_check
    )
    report = ctx.container.split_service().run(args.data_dir, options)
    for line in render.excluded_lines(report):
        ctx.warn(line)
    if warning := leak_warning(report.leaks):
        ctx.warn(warning)
    ctx.say(json.dumps(render.split_dict(report)) if args.json else render.split_text(report))
    return EXIT_OK


def evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--split",
        choices=[SplitName.VAL, SplitName.TEST],
        default=SplitName.VAL,
        help="queries from SPLITS_DIR (val)",
    )
    p.add_argument("--gallery", type=Path, help="class-folder tree to search in (with --queries)")
    p.add_argument("--queries", type=Path, help="class-folder tree of queries (with --gallery)")
    p.add_argument("--k", type=positive_int, nargs="+", default=[1, 5], help="K of Recall@K (1 5)")
    p.add_argument(
        "--rules",
        nargs="+",
        default=["max", "prototype", "knn"],
        help="classification rules to score, when classification by retrieval is available",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("data/evaluation"),
        help="report.json, confusion CSV and PNG (default data/evaluation)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")


def evaluate(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.services.evaluation import EvaluationOptions

    if (args.gallery is None) != (args.queries is None):
        raise UsageError("--gallery and --queries go together")
    options = EvaluationOptions(ks=tuple(sorted(set(args.k))), rules=tuple(args.rules))
    service = ctx.container.evaluation_service()
    if args.gallery is not None:
        report = service.evaluate_folders(args.gallery, args.queries, args.out, options)
    else:
        report = service.evaluate_split(args.split, args.out, options)
    for skipped in report.skipped:
        ctx.warn(f"skipped {skipped.path}: {skipped.reason}")
    if warning := leak_warning(report.leaks):
        ctx.warn(warning)
    ctx.say(json.dumps(report.as_dict()) if args.json else render.evaluation_text(report))
    return EXIT_SKIPPED if report.skipped else EXIT_OK


def finetune_args(p: argparse.ArgumentParser) -> None:
    add_config_options(p, FinetuneConfig)
    p.add_argument("--out", type=Path, default=None, help="default: MODELS_DIR/embedder")
    p.add_argument("--json", action="store_true", help="one JSON object")


def finetune(args: argparse.Namespace, ctx: CliContext) -> int:
    try:
        config = config_from_args(FinetuneConfig, args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    outcome = ctx.container.finetune_service().run(config, args.out)
    ctx.say(
        json.dumps(render.finetune_dict(outcome)) if args.json else render.finetune_text(outcome)
    )
    return EXIT_OK


def _size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    try:
        values = [int(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (1, 2) or min(values) < 1:
        raise UsageError(f"--min-size must look like 224x224 or 224, got {text!r}")
    return (values[0], values[-1])

"""`dedup`, and the `query` options of focused search (filters, one hit per product, cut-off)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli import render_dedup
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_OK
from app.domain.duplicates import DedupScope
from app.domain.search_filters import Cutoff, Focus, SearchOptions
from app.services.dedup import DedupOptions


def dedup_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="S",
        help="cosine similarity from which images count as near-duplicates "
        "(default: DEDUP_THRESHOLD)",
    )
    scope = p.add_mutually_exclusive_group()
    for flag, const, help_ in (
        ("--within-product", DedupScope.WITHIN, "only pairs of one product id"),
        (
            "--across-products",
            DedupScope.ACROSS,
            "only pairs of two product ids (likely labelling errors)",
        ),
    ):
        scope.add_argument(flag, dest="scope", action="store_const", const=const, help=help_)
    p.add_argument("--conflicts-only", action="store_true", help="only groups with 2+ products")
    p.add_argument("--json", action="store_true", help="one JSON object per group per line")
    p.add_argument("--show", type=Path, metavar="OUT.png", help="write a contact sheet")


def dedup(args: argparse.Namespace, ctx: CliContext) -> int:
    threshold = args.threshold
    if threshold is None:
        threshold = ctx.container.settings().dedup_threshold
    options = DedupOptions(
        threshold=threshold,
        scope=args.scope or DedupScope.ALL,
        conflicts_only=args.conflicts_only,
    )
    report = ctx.container.dedup_service().find(options)
    if args.json:
        for group in report.groups:
            ctx.say(render_dedup.group_json(group))
    else:
        ctx.say(render_dedup.dedup_table(report, threshold))
    if args.show:
        sheet = render_dedup.duplicate_sheet(report.groups, args.show)
        ctx.warn(f"contact sheet written to {sheet}")
    return EXIT_OK


def focus_args(p: argparse.ArgumentParser) -> None:
    """The `query` options: filters, one hit per product and the relevance cut-off."""
    p.add_argument("--product", nargs="+", default=[], metavar="ID", help="only these products")
    p.add_argument(
        "--exclude-product", nargs="+", default=[], metavar="ID", help="not these products"
    )
    p.add_argument(
        "--under",
        metavar="FOLDER",
        help="only images in this folder of the products folder or below (e.g. Fruit/Apple)",
    )
    p.add_argument("--distinct-products", action="store_true", help="at most one hit per product")
    p.add_argument(
        "--min-score",
        type=float,
        metavar="S",
        help="drop hits worse than S (cosine: below S; METRIC=l2: distance above S)",
    )
    p.add_argument(
        "--relative",
        type=float,
        metavar="R",
        help="drop hits more than R worse than the best hit's score",
    )


def search_options(args: argparse.Namespace) -> SearchOptions:
    return SearchOptions(
        focus=Focus(tuple(args.product), tuple(args.exclude_product), args.under),
        distinct_products=args.distinct_products,
        cutoff=Cutoff(args.min_score, args.relative),
    )

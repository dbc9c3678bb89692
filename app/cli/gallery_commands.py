"""Arguments and handlers of the gallery commands: `class add|update|remove|list`,
`examples remove`, `calibrate`. Thin: parse, call one service, render."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli import render, render_gallery
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_OK, EXIT_SKIPPED
from app.cli.parsing import image_arg
from app.domain.gallery import GalleryChange


def class_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = sub.add_parser("add", help="a new class from images (files or folders)")
    add.add_argument("name", help="class name")
    add.add_argument("files", nargs="+", type=image_arg, metavar="FILES", help="images or folders")
    update = sub.add_parser("update", help="append images to a class (or --replace its examples)")
    update.add_argument("name", help="class name")
    update.add_argument(
        "files", nargs="+", type=image_arg, metavar="FILES", help="images or folders"
    )
    update.add_argument(
        "--replace", action="store_true", help="make these the only examples of the class"
    )
    remove = sub.add_parser("remove", help="remove a class and all its examples")
    remove.add_argument("name", help="class name")
    listing = sub.add_parser("list", help="classes, examples per class, model; or one class")
    listing.add_argument("name", nargs="?", help="list the examples (ids) of this class")
    listing.add_argument("--json", action="store_true", help="one JSON object")


def class_command(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.container.gallery_service()
    if args.action == "list":
        if args.name is not None:
            ctx.say(render_gallery.examples_text(args.name, service.examples(args.name)))
        else:
            info = service.info()
            ctx.say(
                render_gallery.gallery_json(info)
                if args.json
                else render_gallery.gallery_text(info)
            )
        return EXIT_OK
    if args.action == "remove":
        ctx.say(render_gallery.removed_class_text(service.remove_class(args.name)))
        return EXIT_OK
    if args.action == "add":
        change = service.add_class(args.name, args.files)
    else:
        change = service.update_class(args.name, args.files, replace_all=args.replace)
    return _report(change, "added" if args.action == "add" else "updated", ctx)


def _report(change: GalleryChange, verb: str, ctx: CliContext) -> int:
    for line in render.skipped_lines(change.skipped):
        ctx.warn(line)
    ctx.say(render_gallery.change_text(change, verb))
    return EXIT_SKIPPED if change.skipped else EXIT_OK


def examples_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    remove = sub.add_parser("remove", help="remove examples by image id (see `class list NAME`)")
    remove.add_argument("ids", nargs="+", type=int, metavar="IDS", help="image ids")


def examples_command(args: argparse.Namespace, ctx: CliContext) -> int:
    removed = ctx.container.gallery_service().remove_examples(args.ids)
    ctx.say(render_gallery.removed_examples_text(removed))
    return EXIT_OK


def calibrate_args(p: argparse.ArgumentParser) -> None:
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--queries", type=Path, metavar="DIR", help="class folders of photos")
    what.add_argument("--clear", action="store_true", help="forget the calibrated thresholds")
    p.add_argument(
        "--target-precision", "--target_precision", dest="target_precision", type=float,
        default=0.95, help="precision the accepted predictions must reach (default 0.95)",
    )  # fmt: skip
    p.add_argument(
        "--aggregation", default=None, metavar="NAME",
        help="max, prototype or knn (default: CBR_AGGREGATION)",
    )  # fmt: skip


def calibrate_command(args: argparse.Namespace, ctx: CliContext) -> int:
    service = ctx.container.calibration_service()
    if args.clear:
        dropped = service.clear()
        ctx.say(f"cleared {dropped} calibrations: the settings' thresholds apply")
        return EXIT_OK
    report = service.calibrate(args.queries, args.target_precision, args.aggregation)
    for line in render.skipped_lines(report.skipped):
        ctx.warn(line)
    ctx.say(render_gallery.calibration_text(report))
    return EXIT_SKIPPED if report.skipped else EXIT_OK

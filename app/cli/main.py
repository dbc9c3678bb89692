"""Entry point: `python -m app.cli.main COMMAND ...` or `python app/cli/main.py COMMAND ...`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

if not __package__:  # run as a file: the project root, not app/cli/, goes first on the path
    _ROOT = str(Path(__file__).resolve().parents[2])
    sys.path[:] = [
        _ROOT,
        *(p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent),
    ]

from app.cli.commands import COMMANDS, Command, build_parser, dispatch, no_args
from app.cli.context import CliContext
from app.cli.exit_codes import EXIT_BROKEN_PIPE
from app.domain.errors import ImgRecogError


def _serve(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.cli.repl import run_repl, run_script  # prompt_toolkit only for the shell

    return run_repl(ctx) if sys.stdin.isatty() else run_script(ctx, sys.stdin)


# the one-shot table: the shared commands, and `serve`, which starts the REPL over them
CLI_COMMANDS = [*COMMANDS, Command("serve", "interactive shell", no_args, _serve, in_repl=False)]


def run(argv: list[str], ctx: CliContext) -> int:
    """Parse one command line and run it; domain errors become one line and an exit code."""
    args = build_parser(CLI_COMMANDS).parse_args(argv)
    try:
        return dispatch(args, ctx)
    except ImgRecogError as exc:
        ctx.warn(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        ctx.warn("interrupted")
        return 130


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        code = run(sys.argv[1:] if argv is None else argv, CliContext())
        sys.stdout.flush()
    except BrokenPipeError:  # `query ... | head`: the reader left; stop quietly like any Unix tool
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


if __name__ == "__main__":
    sys.exit(main())

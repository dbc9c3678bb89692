"""`serve`: an interactive shell over the same command table as the one-shot CLI.

History file, tab completion of commands, options and file paths. Models load on first use,
after the prompt is up. A bad command or a bad file prints one line and the session goes on.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from functools import cache

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory, InMemoryHistory

from app.cli.commands import COMMANDS, build_parser, dispatch
from app.cli.completion import ReplCompleter, command_tree
from app.cli.context import CliContext
from app.cli.parsing import HelpShown, ReplArgumentParser
from app.domain.errors import ImgRecogError

PROMPT = "img-recog> "
_EXIT_WORDS = ("exit", "quit")
_REPL_COMMANDS = [c for c in COMMANDS if c.in_repl]


@cache
def repl_parser() -> ReplArgumentParser:
    """Built once per process: every line of every session is parsed by the same parser."""
    parser = build_parser(COMMANDS, ReplArgumentParser, repl=True)
    assert isinstance(parser, ReplArgumentParser)
    return parser


def help_text() -> str:
    lines = ["commands:"]
    lines += [f"  {c.name:<10} {c.help}" for c in _REPL_COMMANDS]
    lines += ["  help       this list ('COMMAND --help' for its options)", "  exit, quit leave"]
    return "\n".join(lines)


def run_line(line: str, ctx: CliContext) -> bool:
    """Run one REPL line. Returns False when the session should end."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        ctx.warn(f"error: {exc}")
        return True
    if not words:
        return True
    if words[0] in _EXIT_WORDS:
        return False
    if words[0] == "help":
        ctx.say(help_text())
        return True
    try:
        dispatch(repl_parser().parse_args(words), ctx)
    except HelpShown:
        pass
    except ImgRecogError as exc:
        ctx.warn(f"error: {exc}")
    except KeyboardInterrupt:
        ctx.warn("interrupted")
    return True


def _history(ctx: CliContext):
    path = ctx.container.settings().history_file
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileHistory(str(path))
    except OSError:
        return InMemoryHistory()


def run_script(ctx: CliContext, lines: Iterable[str]) -> int:
    """Commands piped in (stdin is not a terminal): run each line, no prompt or line editing."""
    for line in lines:
        if not run_line(line, ctx):
            break
    return 0


def completer(ctx: CliContext) -> ReplCompleter:
    """Completion over the REPL's commands; class names read from the gallery when asked."""
    tree = command_tree(_REPL_COMMANDS, ["help", *_EXIT_WORDS])
    return ReplCompleter(tree, lambda: _class_names(ctx))


def _class_names(ctx: CliContext) -> list[str]:
    try:
        return [c.class_name for c in ctx.container.gallery_service().info().classes]
    except ImgRecogError:  # no gallery yet, database unavailable: nothing to offer
        return []


def run_repl(ctx: CliContext) -> int:
    ctx.interactive = True
    session: PromptSession[str] = PromptSession(
        history=_history(ctx), completer=completer(ctx), complete_while_typing=False
    )
    ctx.say("img-recog shell: type 'help' for commands, 'exit' to leave")
    while True:
        try:
            line = session.prompt(PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not run_line(line, ctx):
            break
    return 0

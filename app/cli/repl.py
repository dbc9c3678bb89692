"""`serve`: an interactive shell over the same command table as the one-shot CLI.

History file, tab completion of commands, options and file paths. Models load on first use,
after the prompt is up. A bad command or a bad file prints one line and the session goes on.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import Completer, Completion, PathCompleter, WordCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory

from app.cli.commands import COMMANDS, build_parser, dispatch
from app.cli.context import CliContext
from app.cli.parsing import HelpShown, ReplArgumentParser
from app.domain.errors import ImgRecogError

PROMPT = "img-recog> "
_EXIT_WORDS = ("exit", "quit")
_REPL_COMMANDS = [c for c in COMMANDS if c.in_repl]


class ReplCompleter(Completer):
    """First word: command names. Later words: the command's options, or file paths."""

    def __init__(self) -> None:
        names = [c.name for c in _REPL_COMMANDS] + ["help", *_EXIT_WORDS]
        self._commands = WordCompleter(names)
        self._paths = PathCompleter(expanduser=True)
        parser = build_parser(ReplArgumentParser, repl=True)
        self._options = {
            name: sorted(opt for action in sub._actions for opt in action.option_strings)
            for name, sub in parser._subparsers._group_actions[0].choices.items()
        }

    def get_completions(self, document: Document, complete_event) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split()
        if len(words) <= 1 and not text.endswith(" "):
            yield from self._commands.get_completions(document, complete_event)
            return
        word = document.get_word_before_cursor(WORD=True)
        if word.startswith("-"):
            for option in self._options.get(words[0], []):
                if option.startswith(word):
                    yield Completion(option, start_position=-len(word))
            return
        sub = Document(word, cursor_position=len(word))
        yield from self._paths.get_completions(sub, complete_event)


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
    parser = build_parser(ReplArgumentParser, repl=True)
    try:
        dispatch(parser.parse_args(words), ctx)
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


def run_repl(ctx: CliContext) -> int:
    ctx.interactive = True
    session: PromptSession[str] = PromptSession(
        history=_history(ctx), completer=ReplCompleter(), complete_while_typing=False
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

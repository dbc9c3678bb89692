"""Every command line the README shows is one the program accepts: the one-shot CLI lines
(`python -m app.cli.main ...`), the shell lines (`img-recog> ...`) and the options it gives the
scripts under scripts/ (`python scripts/NAME.py [--option ...]`)."""

from __future__ import annotations

import argparse
import itertools
import re
import shlex
from pathlib import Path

import pytest

from app.cli.commands import COMMANDS, build_parser
from app.cli.main import CLI_COMMANDS
from app.cli.parsing import ReplArgumentParser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = "python -m app.cli.main "


def _code_lines() -> list[str]:
    """The lines of the README's fenced code blocks, continuation lines joined."""
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", README, re.M | re.S)
    joined = "\n".join(block.replace("\\\n", " ") for block in blocks)
    return [line.strip() for line in joined.splitlines()]


def _variants(words: str) -> list[list[str]]:
    """`cache list|clear` -> two command lines; `[--note TEXT]` -> with and without it."""
    words = re.sub(r"\s#\s.*$", "", words)  # a trailing comment
    optional = re.findall(r"\[([^\]]+)\]", words)
    lines = []
    for kept in itertools.product([False, True], repeat=len(optional)):
        line = words
        for part, keep in zip(optional, kept, strict=True):
            line = line.replace(f"[{part}]", part if keep else "", 1)
        choices = [word.split("|") if "|" in word else [word] for word in shlex.split(line)]
        lines += [list(argv) for argv in itertools.product(*choices)]
    return lines


CLI_LINES = sorted({line[len(CLI) :] for line in _code_lines() if line.startswith(CLI)})
REPL_LINES = sorted(
    {line.split("> ", 1)[1] for line in _code_lines() if line.startswith("img-recog> ")}
)


def _accepts(parser: argparse.ArgumentParser, line: str) -> None:
    for argv in _variants(line):
        try:
            parser.parse_args(argv)
        except (SystemExit, Exception) as exc:  # argparse exits; the REPL parser raises
            pytest.fail(f"README line `{line}` is refused ({argv}): {exc}")


def test_readme_shows_command_lines():
    assert len(CLI_LINES) > 50 and len(REPL_LINES) >= 5


@pytest.mark.parametrize("line", CLI_LINES)
def test_readme_cli_line_parses(line):
    _accepts(build_parser(CLI_COMMANDS), line)


@pytest.mark.parametrize("line", REPL_LINES)
def test_readme_shell_line_parses(line):
    if line.split()[0] in {"exit", "quit", "help"}:
        return
    _accepts(build_parser(COMMANDS, ReplArgumentParser, repl=True), line)


SCRIPT_CALLS = sorted(
    set(re.findall(r"python (scripts/\w+\.py)((?: \[?--[\w-]+[^`\]]*\]?)*)`", README))
)


@pytest.mark.parametrize(("script", "options"), SCRIPT_CALLS)
def test_readme_script_options_exist(script, options):
    source = (ROOT / script).read_text(encoding="utf-8")
    for option in re.findall(r"--[\w-]+", options):
        assert f'"{option}"' in source, f"README gives {script} the option {option}, unknown to it"


def test_readme_paths_exist():
    """Files the README points at (`tests/...py`, `scripts/...`, `app/...py`, `docs/...`) exist."""
    named = re.findall(r"\b((?:tests|scripts|app|docs)/[\w./-]+\.(?:py|sh|md|png))\b", README)
    missing = sorted({path for path in named if not (ROOT / path).exists()})
    assert named and not missing, f"README names files that are gone: {missing}"

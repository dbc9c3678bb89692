"""One argparse parser built from the command table, for one-shot use and for the REPL."""

from __future__ import annotations

import argparse
from typing import NoReturn

from app.domain.errors import ImgRecogError
from app.domain.images import ImageInput


class UsageError(ImgRecogError):
    exit_code = 2


def positive_int(text: str) -> int:
    """argparse type of counts such as --k: a bad value is a usage error (exit 2) everywhere."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def image_arg(text: str) -> ImageInput:
    """argparse type of image arguments: a file (or a folder of them) to embed."""
    return ImageInput.file(text)


class HelpShown(Exception):
    """Raised by the REPL parser after printing help, instead of exiting the process."""


class ReplArgumentParser(argparse.ArgumentParser):
    """Raises instead of exiting, so a bad REPL line prints one line and the session goes on."""

    def error(self, message: str) -> NoReturn:
        if "argument COMMAND: invalid choice" in message:
            word = message.split("'")[1]
            raise UsageError(f"unknown command '{word}' (type 'help' for the list)")
        prog = self.prog.strip()
        raise UsageError(f"{prog}: {message}" if prog else message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise HelpShown

"""Config dataclass fields that also describe their command-line option (see app/cli/options.py)."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def option(default: Any, help: str, *flags: str, **extra: Any) -> Any:
    """A dataclass field with its option's `help` and `flags` (default: `--name-with-dashes`
    and `--name_with_underscores`); `extra` may give `choices`."""
    return field(default=default, metadata={"help": help, "flags": flags, **extra})

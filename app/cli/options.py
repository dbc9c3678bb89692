"""Command-line options derived from a config dataclass (as litgpt derives its parsers).

Each field made with `app.domain.options.option` carries its help and flags; the type comes from
the annotation: int, float, str (with `choices`), `X | None` (default None), bool (a switch) and
`bool | None` (`--flag`, `--flag=false`, `--no-flag`). `config_from_args` builds the dataclass back.
"""

from __future__ import annotations

import argparse
from dataclasses import MISSING, Field, fields
from typing import Any

_TYPES = {"int": int, "float": float, "str": str}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return lowered in _TRUE
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_config_options(parser: argparse.ArgumentParser, config_type: type) -> None:
    """One option per field of `config_type` that has help metadata."""
    for item in fields(config_type):
        if "help" in item.metadata:
            _add(parser, item)


def config_from_args(config_type: type, args: argparse.Namespace) -> Any:
    """`config_type` from the parsed options (fields without an option keep their default)."""
    values = {f.name: getattr(args, f.name) for f in fields(config_type) if "help" in f.metadata}
    return config_type(**values)


def _flags(item: Field) -> list[str]:
    flags = list(item.metadata.get("flags") or ())
    dashed = "--" + item.name.replace("_", "-")
    if not any(flag.startswith("--") for flag in flags):
        flags.append(dashed)
    if "_" in item.name and f"--{item.name}" not in flags:
        flags.append(f"--{item.name}")
    return flags


def _add(parser: argparse.ArgumentParser, item: Field) -> None:
    default = None if item.default is MISSING else item.default
    kind = str(item.type).replace(" ", "")
    flags = _flags(item)
    help_text = item.metadata["help"] + _shown(default)
    if kind == "bool":
        parser.add_argument(*flags, dest=item.name, action="store_true", help=help_text)
    elif kind == "bool|None":
        parser.add_argument(*flags, dest=item.name, nargs="?", const=True, default=default,
                            type=parse_bool, metavar="true|false", help=help_text)  # fmt: skip
        negative = "--no-" + flags[0].lstrip("-").replace("_", "-")
        parser.add_argument(negative, dest=item.name, action="store_const", const=False,
                            help=argparse.SUPPRESS)  # fmt: skip
    else:
        base = _TYPES[kind.removesuffix("|None")]
        parser.add_argument(*flags, dest=item.name, type=base, default=default,
                            choices=item.metadata.get("choices"), help=help_text)  # fmt: skip


def _shown(default: Any) -> str:
    if default is None or default is False or default == "":
        return ""
    return f" ({default:g})" if isinstance(default, float) else f" ({default})"

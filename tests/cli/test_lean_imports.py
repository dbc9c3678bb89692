"""hidden_modules: a library's optional extras look absent while it imports, then import again."""

from __future__ import annotations

import importlib
import sys

import pytest

from app.cli.lean_imports import hidden_modules


def test_hidden_modules_look_absent_inside_the_block_only() -> None:
    sys.modules.pop("colorsys", None)  # a small stdlib module, not imported yet
    with hidden_modules("colorsys", "json"), pytest.raises(ImportError):
        importlib.import_module("colorsys")
    assert importlib.import_module("colorsys").rgb_to_hsv(1, 0, 0) == (0.0, 1.0, 1)


def test_modules_already_imported_are_left_alone() -> None:
    import json

    with hidden_modules("json"):
        assert importlib.import_module("json") is json
    assert sys.modules["json"] is json

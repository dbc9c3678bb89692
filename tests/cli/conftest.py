from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

from app.cli.context import CliContext
from app.cli.main import run


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(container):
    """Run one-shot commands against the test container; returns exit code, stdout, stderr."""

    def invoke(*argv: str) -> Ran:
        ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
        code = run(list(argv), ctx)
        return Ran(code, ctx.out.getvalue(), ctx.err.getvalue())

    return invoke

"""Stop the test PostgreSQL server (scripts/pg_test_server.sh) and start it again."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from conftest import _in_ci


def _pg_ctl(*args: str) -> None:
    owner = shlex.split(os.environ.get("TEST_POSTGRES_OWNER", ""))
    command = [*owner, os.environ["TEST_POSTGRES_PGCTL"], "-D", os.environ["TEST_POSTGRES_DATA"]]
    subprocess.run([*command, "-w", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def postgres_down() -> Iterator[None]:
    """The server is stopped inside the block and running again after it (also on failure)."""
    if not os.environ.get("TEST_POSTGRES_PGCTL"):
        why = "TEST_POSTGRES_PGCTL is not set: run under scripts/pg_test_server.sh"
        if _in_ci():
            pytest.fail(f"CI needs the database outage test but {why}")
        pytest.skip(why)
    _pg_ctl("-m", "fast", "stop")
    try:
        yield
    finally:
        _pg_ctl("-l", os.environ["TEST_POSTGRES_LOG"], "-o", os.environ["TEST_POSTGRES_OPTIONS"],
                "start")  # fmt: skip

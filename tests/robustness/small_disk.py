"""A small tmpfs mounted for one test, to fill up on purpose (needs root; CI runs as root)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import _in_ci


@contextmanager
def small_disk(where: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where` for the block; skipped (failed in CI) without root."""
    why = None
    if not sys.platform.startswith("linux"):
        why = "a full disk is simulated with a tmpfs mount, which needs Linux"
    elif os.geteuid() != 0:
        why = "mounting a small tmpfs to fill up needs root"
    if why:
        if _in_ci():
            pytest.fail(f"CI must run the full-disk tests, but {why}")
        pytest.skip(why)
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, keep: int = 0) -> Path:
    """Write a filler file leaving about `keep` bytes free; delete it to free the space."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    filler = disk / "filler"
    with open(filler, "ab") as out, contextlib.suppress(OSError):  # full already: fine
        out.write(b"\0" * max(0, free - keep))
    return filler

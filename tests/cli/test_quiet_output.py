"""Output that does not break: pipes closed early, empty progress bars, an empty index."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from app.cli.context import CliContext
from app.cli.main import run
from app.cli.progress import tqdm_progress

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "INDEX_DIR": str(tmp_path / "index"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "PRODUCTS_DIR": str(tmp_path / "products"),
        "MODELS_DIR": str(tmp_path / "models"),
    }


def test_closed_pipe_exits_quietly(tmp_path):
    """`stats | head -0`: the reader is gone before the output is written; no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "class", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode in (0, 141)


def test_rebuild_with_nothing_to_embed_shows_no_empty_bar(container):
    err = io.StringIO()
    container.progress.override(tqdm_progress(err))
    ctx = CliContext(out=io.StringIO(), err=err, container_override=container)
    assert run(["rebuild"], ctx) == 0
    assert "embedding" in err.getvalue()  # the first rebuild had work and showed it
    err.seek(0)
    err.truncate()
    assert run(["rebuild"], ctx) == 0
    assert "embedding" not in err.getvalue() and "0img" not in err.getvalue()


def test_stats_on_an_empty_index_says_empty(cli):
    ran = cli("stats")
    assert ran.code == 0
    index_line = next(line for line in ran.out.splitlines() if line.startswith("index:"))
    assert "empty" in index_line and "None" not in ran.out

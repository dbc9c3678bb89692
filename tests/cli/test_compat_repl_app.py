"""Coming from the REPL application: its documented calls, sent verbatim.

- `python app/cli/main.py <command>` (the file run directly, not only `python -m app.cli.main`);
- its `.env` syntax `PREPROCESS_SIZE=224,224` (width,height) and `PREPROCESS_BG_COLOR=255,255,255`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED_ENV = "PREPROCESS_SIZE=224,224\nPREPROCESS_BG_COLOR=255,255,255\n"


def run_file(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, str(ROOT / "app" / "cli" / "main.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "EMBEDDING_MODEL": "efficientnet-lite0"},
        check=False,
    )


def test_main_py_run_directly_with_the_documented_env(tmp_path):
    (tmp_path / ".env").write_text(DOCUMENTED_ENV)
    ran = run_file(tmp_path, "stats")
    assert ran.returncode == 0, ran.stderr
    current = next(line for line in ran.stdout.splitlines() if line.startswith("current model"))
    assert "size=224" in current and "bg=ffffff" in current
    assert "images:" in ran.stdout and "Traceback" not in ran.stderr


def test_main_py_help_and_a_bad_setting_are_one_line(tmp_path):
    ran = run_file(tmp_path, "--help")
    assert ran.returncode == 0 and "rebuild" in ran.stdout
    (tmp_path / ".env").write_text("PREPROCESS_SIZE=224,160\n")
    ran = run_file(tmp_path, "stats")
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert "PREPROCESS_SIZE" in ran.stderr and "square" in ran.stderr

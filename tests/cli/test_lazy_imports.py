"""Commands that need no model import no model libraries (checked in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "onnxruntime", "efficientnet_lite_pytorch", "rembg")
# not model libraries, but ~0.4 s of a command's start: Alembic only when the schema is migrated,
# FastAPI (and what dependency-injector's wiring would pull in with it) only for the API
SERVER = ("alembic", "fastapi", "starlette", "werkzeug")
# runs one command like `python -m app.cli.main`, then prints which heavy modules it imported
WRAPPER = f"""
import json, runpy, sys
sys.argv = ["app.cli.main", *sys.argv[1:]]
try:
    runpy.run_module("app.cli.main", run_name="__main__")
except SystemExit as stop:
    code = stop.code
print("HEAVY=" + json.dumps(sorted(m for m in {HEAVY + SERVER!r} if m in sys.modules)),
      file=sys.stderr)
sys.exit(code)
"""


def _run(tmp_path: Path, *argv: str) -> tuple[int, str, list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PRODUCTS_DIR": str(tmp_path / "products"),
        "INDEX_DIR": str(tmp_path / "index"),
        "MODELS_DIR": str(tmp_path / "models"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "EMBEDDING_MODEL": "efficientnet-lite0",
        "DEVICE": "cpu",
    }
    ran = subprocess.run(
        [sys.executable, "-c", WRAPPER, *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=300,
    )
    marker = [line for line in ran.stderr.splitlines() if line.startswith("HEAVY=")]
    assert marker, ran.stderr
    return ran.returncode, ran.stdout, json.loads(marker[-1][len("HEAVY=") :])


def test_commands_import_only_the_model_libraries_they_need(
    tmp_path: Path, catalogue: Path
) -> None:
    code, out, heavy = _run(tmp_path, "rebuild")  # exports the model to ONNX once
    assert code == 0 and "9 embedded" in out
    assert {"torch", "onnxruntime", "alembic"} <= set(heavy)  # the check sees real imports
    for argv in (
        ("rebuild",),
        ("stats",),
        ("class", "list"),
        ("cache", "list"),
        ("rebuild", "--help"),
        ("query", "--help"),
    ):
        code, out, heavy = _run(tmp_path, *argv)
        assert code == 0, (argv, out)
        assert heavy == [], f"{' '.join(argv)} imported {heavy}"
    assert "0 embedded, 9 unchanged" in _run(tmp_path, "rebuild")[1]
    code, out, heavy = _run(tmp_path, "query", "--image", str(catalogue / "red-shoe" / "view0.jpg"))
    assert code == 0 and "red-shoe" in out
    assert heavy == ["onnxruntime"]  # the cached ONNX export is loaded: no torch, no re-export

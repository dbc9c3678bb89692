"""Nothing is written outside the configured data folders (./data and ./models by default)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_product_photo

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_commands_write_only_under_data_and_models(tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    home.mkdir()
    for i, (product, colour) in enumerate({"red": (200, 30, 30), "blue": (30, 50, 210)}.items()):
        for view in range(2):
            write_product_photo(work / "data" / "products" / product / f"{view}.jpg", colour, i)
    query = write_product_photo(tmp_path / "query.jpg", (190, 40, 30), seed=5)
    before = set(tmp_path.rglob("*"))
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(ROOT),
           "EMBEDDING_MODEL": "efficientnet-lite0", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    for argv in (
        ["rebuild"],
        ["query", "--image", str(query), "--json"],
        ["class", "add", "green", str(query)],
        ["classify", "--image", str(query), "--json"],
        ["stats"],
    ):
        ran = subprocess.run(
            [sys.executable, "-m", "app.cli.main", *argv],
            cwd=work, env=env, capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
        assert ran.returncode == 0, (argv, ran.stderr[-500:])
    created = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    outside = [
        p for p in created
        if not (p.is_relative_to(work / "data") or p.is_relative_to(work / "models"))
    ]  # fmt: skip
    assert created and outside == []

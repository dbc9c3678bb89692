"""The REPL and the API keep answering from the last complete index while `rebuild --full` runs
in another process; a reader that starts mid-rebuild loads the last complete index too."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.cli.context import CliContext
from app.cli.repl import run_line
from app.container import build_container
from tests.robustness.crashloop import CLOTHING_TRAIN, REPO, photo_folder, rebuild_env, settings_for


def _top(hits) -> list[tuple[str, float]]:
    """class/file and score of each hit (the API shows paths relative to the products folder,
    the REPL whole)."""
    return [("/".join(Path(h["path"]).parts[-2:]), round(h["score"], 4)) for h in hits]


@pytest.mark.slow
def test_readers_answer_from_the_last_complete_index(tmp_path):
    if not CLOTHING_TRAIN.is_dir():
        pytest.skip(f"real photos not found at {CLOTHING_TRAIN}")
    products = photo_folder(tmp_path / "products")
    state = tmp_path / "state"
    first = build_container(settings_for(products, state))
    first.rebuild_service().run()
    model = first.embedding_model()
    query = next(products.rglob("*.jpg"))

    def reader():
        c = build_container(settings_for(products, state))
        c.embedding_model.override(providers.Object(model))
        return c

    repl_container = reader()
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=repl_container)
    line = f"query --image {query} --json --k 5"

    def repl_answer():
        ctx.out.seek(0)
        ctx.out.truncate()
        run_line(line, ctx)
        return _top(json.loads(ctx.out.getvalue())["hits"])

    expected = repl_answer()
    env = {**os.environ, **rebuild_env(products, state), "PYTHONPATH": str(REPO)}
    answers, fresh = 0, []
    with TestClient(create_app(reader(), warm_up=False)) as api:
        upload = {"file": (query.name, query.read_bytes(), "image/jpeg")}
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "rebuild", "--full"],
            cwd=state,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        while rebuild.poll() is None:
            answer = api.post("/search", files=upload, data={"k": "5"})
            assert answer.status_code == 200, answer.text
            assert _top(answer.json()["hits"]) == expected
            assert repl_answer() == expected
            fresh.append(len(reader().vector_store()))  # a reader started now
            answers += 1
        assert rebuild.wait() == 0, rebuild.stderr.read()
    assert answers >= 3
    assert set(fresh) == {len(first.vector_store())}, fresh  # never a half-built index
    assert _top(json.loads(_fresh_query(reader(), line))["hits"]) == expected


def _fresh_query(container, line: str) -> str:
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    run_line(line, ctx)
    return ctx.out.getvalue()

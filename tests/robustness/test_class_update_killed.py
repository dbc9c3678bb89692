"""SIGKILL the API server in the middle of `POST /class/update/{name}` at random moments: the
gallery always loads consistent, an acknowledged update is never lost, and a rebuild finishes."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from app.domain.images import ImageInput
from tests.robustness.crashloop import CLOTHING_TRAIN, REPO, CrashLoop, rebuild_env
from tests.support.servers import free_port, wait_healthy

RUNS = 6


def _serve(loop: CrashLoop, port: int) -> subprocess.Popen:
    env = {**os.environ, **rebuild_env(loop.products, loop.state), "PYTHONPATH": str(REPO)}
    env.setdefault("HF_HUB_OFFLINE", "1")
    cmd = [sys.executable, "-m", "app.cli.main", "api", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, cwd=loop.state, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.slow
def test_class_update_killed_mid_way(tmp_path):
    if not CLOTHING_TRAIN.is_dir():
        pytest.skip(f"real photos not found at {CLOTHING_TRAIN} (see ../shared/data/README.md)")
    loop = CrashLoop(tmp_path, runs=0)
    loop._finish()  # the catalogue, indexed
    photos = sorted((CLOTHING_TRAIN / "shorts").glob("*.jpg"))[:30]
    loop._container().gallery_service().add_class("extra", ImageInput.files(photos[:2]))
    rng = random.Random(3)
    cut_short = 0
    for run in range(RUNS):
        port = free_port()
        server = _serve(loop, port)
        base = f"http://127.0.0.1:{port}"
        acknowledged: list[int] = []
        try:
            wait_healthy(base)
            batch = photos[2 + 4 * run : 6 + 4 * run]
            files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in batch]

            def update(files=files, acknowledged=acknowledged) -> None:
                try:
                    r = httpx.post(f"{base}/class/update/extra?append=false", files=files,
                                   timeout=60)  # fmt: skip
                    if r.status_code == 200:
                        acknowledged.extend(r.json()["example_ids"])
                except httpx.HTTPError:
                    pass  # the server was killed first

            sender = threading.Thread(target=update)
            sender.start()
            time.sleep(rng.uniform(0.02, 1.0))
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait()
        sender.join()
        cut_short += not acknowledged
        outcome = loop._check_consistent(f"class update killed, run {run + 1}")
        assert outcome.ok and outcome.records_lost == 0, outcome
        c = loop._container()
        stamp = c.vector_store().model_stamp
        extra = [r for r in c.repository().list_images("extra") if r.embedding_model == stamp]
        assert extra, "the class lost every example"
        assert set(acknowledged) <= {r.id for r in extra}  # an acknowledged update is kept
    assert cut_short >= 1  # at least one update was killed before it was acknowledged
    loop._finish()  # a rebuild completes (re-embeds any row left unstamped) ...
    assert loop._check_consistent("after rebuild").ok
    c = loop._container()
    rows = c.repository().list_images()
    assert all(r.embedding_model == c.vector_store().model_stamp for r in rows)  # ... and all

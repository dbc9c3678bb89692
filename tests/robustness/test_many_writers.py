"""Many processes write one gallery at once (API servers, uvicorn workers, CLI processes), at
random moments and sometimes SIGKILLed: every acknowledged change survives, every removed class is
gone, and the index holds exactly the database's images. Real processes, real stores and
databases; only the network is the thumbnail stand-in (see writers.py).

More rounds: IMGRECOG_WRITER_ROUNDS=20 (default 1); each round uses a new seed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from dependency_injector import providers

from app.config import load_settings
from app.container import build_container
from conftest import write_product_photo
from tests.robustness.writers import REPO, Plan, SlowThumbnailModel, writer_env

ROUNDS = int(os.environ.get("IMGRECOG_WRITER_ROUNDS", "1"))
OPS = 5  # class commands per writer per round
SETTINGS = ("PRODUCTS_DIR", "INDEX_DIR", "DATABASE_URL", "EXAMPLES_DIR", "MODELS_DIR")


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    for i in range(12):
        colour = tuple(int(v) for v in rng.integers(20, 235, 3))
        write_product_photo(tmp_path / "photos" / f"p{i:02d}.jpg", colour, seed=i)
    (tmp_path / "products").mkdir()
    return tmp_path / "photos"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_api(env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if workers == 1:
        cmd = [sys.executable, "-m", "tests.robustness.writers", "api", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "tests.robustness.writers:app", "--port",
               str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the API did not start")


def start_cli(env: dict[str, str], name: str, seed: int, photos: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tests.robustness.writers", "cli", name, str(OPS), str(seed),
           str(photos)]  # fmt: skip
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)


def http_writer(bases: list[str], name: str, seed: int, photos: Path, acks: dict) -> None:
    """The same random plan as a CLI writer, sent over HTTP (to each base in turn)."""
    plan = Plan(name, seed, photos)
    for step in range(OPS):
        time.sleep(plan.rng.uniform(0, 0.2))
        action, target, files = plan.next()
        base = bases[step % len(bases)]
        upload = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in files]
        if action == "remove":
            r = httpx.delete(f"{base}/class/{target}", timeout=120)
        elif action == "update":
            r = httpx.post(f"{base}/class/update/{target}", files=upload, timeout=120)
        else:
            r = httpx.post(f"{base}/class/add/{target}", files=upload, timeout=120)
        assert r.status_code == 200, r.text
        acks[target] = plan.acknowledged(action, target, files)["examples"]


def read_cli(proc: subprocess.Popen, acks: dict) -> str | None:
    """Collect a CLI writer's acknowledgements; the class of a command cut short, if any."""
    open_class = None
    for line in proc.stdout:
        event = json.loads(line)
        assert "failed" not in event, event
        if "begin" in event:
            open_class = event["begin"]
        else:
            acks[event["class"]] = event["examples"]
            open_class = None
    return open_class if proc.wait() != 0 else None


def gallery(env: dict[str, str]):
    values = {k.lower(): v for k, v in env.items() if k in (*SETTINGS, "VECTOR_STORE")}
    values.update({k.lower(): v for k, v in env.items() if k == "FAISS_INDEX"})
    c = build_container(load_settings(_env_file=None, **values))
    c.embedding_model.override(providers.Object(SlowThumbnailModel()))
    return c


def check(env: dict[str, str], acks: dict[str, int], unsure: set[str], exact: bool = True):
    """Acknowledged classes hold their examples, each with its vector; removed ones are gone;
    with `exact`, the index holds exactly the database's images, all stamped."""
    c = gallery(env)
    rows = c.repository().list_images()
    store = c.vector_store()
    indexed = set(store.ids().tolist())
    for name, count in acks.items():
        if name in unsure:
            continue
        mine = [r for r in rows if r.product_id == name]
        assert len(mine) == count, (name, count, mine)
        assert {r.id for r in mine} <= indexed, f"{name}: an acknowledged example has no vector"
    assert indexed <= {r.id for r in rows}, "a vector without its image"
    stamped = {r.id for r in rows if r.embedding_model == store.model_stamp}
    if exact:
        assert indexed == stamped == {r.id for r in rows}
        assert c.stats_service().get().index.size == len(rows) == c.repository().count_images()
    else:
        assert stamped - indexed <= {r.id for r in rows if r.product_id in unsure}
    return c


def run_round(env, photos, seed, *, apis=1, workers=1, clis=2, http=1, kill=False):
    servers = [start_api(env, workers) for _ in range(apis)]
    bases = [base for _, base in servers]
    acks: dict[str, int] = {}
    unsure: set[str] = set()
    try:
        procs = [start_cli(env, f"cli{seed}x{i}", seed * 10 + i, photos) for i in range(clis)]
        senders = [
            threading.Thread(
                target=http_writer, args=(bases, f"http{seed}x{i}", seed + i, photos, acks)
            )
            for i in range(http if bases else 0)
        ]
        for t in senders:
            t.start()
        if kill:
            time.sleep(random.Random(seed).uniform(1.0, 4.0))
            procs[0].send_signal(signal.SIGKILL)
        unsure = {read_cli(p, acks) for p in procs} - {None}
        for t in senders:
            t.join()
    finally:
        for proc, _ in servers:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    return acks, unsure


BACKENDS = {
    "sqlite-faiss-flat": {},
    "sqlite-faiss-hnsw": {"FAISS_INDEX": "hnsw"},
    "sqlite-memory-store": {"VECTOR_STORE": "memory"},
}


@pytest.mark.parametrize("backend", [*BACKENDS, "postgresql-faiss"])
def test_api_server_and_two_cli_processes(backend, tmp_path, photos, request):
    extra = dict(BACKENDS.get(backend, {}))
    if backend == "postgresql-faiss":
        extra["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    env = writer_env(tmp_path / "state", tmp_path / "products", **extra)
    for seed in range(1, ROUNDS + 1):
        acks, unsure = run_round(env, photos, seed)
        assert len(acks) >= 3 and not unsure
        check(env, acks, unsure)


def test_two_uvicorn_workers_and_a_cli_process(tmp_path, photos):
    env = writer_env(tmp_path / "state", tmp_path / "products")
    for seed in range(1, ROUNDS + 1):
        acks, _ = run_round(env, photos, seed, workers=2, clis=1, http=2)
        check(env, acks, set())


def test_cli_writer_killed_mid_write(tmp_path, photos):
    """SIGKILL one of two CLI writers at a random moment: nothing acknowledged is lost, the
    index loads, and the next rebuild makes index and database agree exactly."""
    env = writer_env(tmp_path / "state", tmp_path / "products")
    for seed in range(1, ROUNDS + 1):
        acks, unsure = run_round(env, photos, seed, apis=0, http=0, kill=True)
        c = check(env, acks, unsure, exact=False)
        c.rebuild_service().run()
        check(env, acks, unsure)

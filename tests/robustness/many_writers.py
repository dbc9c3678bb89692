"""Many writers on one gallery, as real processes (see writers.py): start them, let them write at
random moments (optionally SIGKILL one), and audit what the gallery holds afterwards. Shared by
tests/robustness/test_many_writers.py and scripts/robustness_report.py.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from dependency_injector import providers

from app.config import load_settings
from app.container import build_container
from tests.robustness.writers import REPO, Plan, SlowThumbnailModel
from tests.support.servers import free_port, wait_healthy

OPS = 5  # class commands per writer per round
SETTINGS = ("PRODUCTS_DIR", "INDEX_DIR", "DATABASE_URL", "EXAMPLES_DIR", "MODELS_DIR",
            "VECTOR_STORE", "FAISS_INDEX")  # fmt: skip


@dataclass
class Round:
    """What the writers of one round were told: class -> examples it must hold (0: removed)."""

    acks: dict[str, int] = field(default_factory=dict)
    unsure: set[str] = field(default_factory=set)  # the command a SIGKILL cut short
    failures: list[str] = field(default_factory=list)
    writes: int = 0  # acknowledged commands


@dataclass
class Audit:
    lost: int  # acknowledged examples without their row or vector, or removed ones still there
    orphans: int  # vectors without an image row
    unindexed: int  # image rows without a vector (allowed only after a SIGKILL)
    rows: int
    vectors: int


def start_api(env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen, str]:
    port = free_port()
    if workers == 1:
        cmd = [sys.executable, "-m", "tests.robustness.writers", "api", str(port)]
    else:
        cmd = [sys.executable, "-m", "uvicorn", "tests.robustness.writers:app", "--port",
               str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_healthy(base, proc)
    return proc, base


def start_cli(env: dict[str, str], name: str, seed: int, photos: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tests.robustness.writers", "cli", name, str(OPS), str(seed),
           str(photos)]  # fmt: skip
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)


def http_writer(bases: list[str], name: str, seed: int, photos: Path, done: Round) -> None:
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
        if r.status_code != 200:
            done.failures.append(f"{action} {target}: HTTP {r.status_code} {r.text}")
            return
        done.acks[target] = plan.acknowledged(action, target, files)["examples"]
        done.writes += 1


def read_cli(proc: subprocess.Popen, done: Round) -> None:
    """Collect a CLI writer's acknowledgements, and the command a SIGKILL cut short."""
    open_class = None
    for line in proc.stdout:
        event = json.loads(line)
        if "failed" in event:
            done.failures.append(f"{event['failed']}: {event['err'].strip()}")
        elif "begin" in event:
            open_class = event["begin"]
        else:
            done.acks[event["class"]] = event["examples"]
            done.writes += 1
            open_class = None
    if proc.wait() != 0 and open_class is not None:
        done.unsure.add(open_class)


def gallery(env: dict[str, str]):
    """A container over the gallery that `env` names (the thumbnail model)."""
    c = build_container(
        load_settings(_env_file=None, **{k.lower(): v for k, v in env.items() if k in SETTINGS})
    )
    c.embedding_model.override(providers.Object(SlowThumbnailModel()))
    return c


def audit(env: dict[str, str], done: Round) -> Audit:
    c = gallery(env)
    rows = c.repository().list_images()
    indexed = set(c.vector_store().ids().tolist())
    lost = 0
    for name, count in done.acks.items():
        if name in done.unsure:
            continue
        mine = {r.id for r in rows if r.product_id == name}
        lost += abs(len(mine) - count) + len(mine - indexed)
    known = {r.id for r in rows}
    return Audit(lost, len(indexed - known), len(known - indexed), len(rows), len(indexed))


def run_round(env, photos, seed, *, apis=1, workers=1, clis=2, http=1, kill=False) -> Round:
    servers = [start_api(env, workers) for _ in range(apis)]
    bases = [base for _, base in servers]
    done = Round()
    try:
        procs = [start_cli(env, f"cli{seed}x{i}", seed * 10 + i, photos) for i in range(clis)]
        senders = [
            threading.Thread(
                target=http_writer, args=(bases, f"http{seed}x{i}", seed + i, photos, done)
            )
            for i in range(http if bases else 0)
        ]
        for t in senders:
            t.start()
        if kill:
            time.sleep(random.Random(seed).uniform(1.0, 4.0))
            procs[0].send_signal(signal.SIGKILL)
        for proc in procs:
            read_cli(proc, done)
        for t in senders:
            t.join()
    finally:
        for proc, _ in servers:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    return done


def photo_pool(folder: Path, count: int = 12) -> Path:
    """`count` small synthetic photos of distinct colours."""
    from conftest import write_product_photo

    rng = np.random.default_rng(5)
    for i in range(count):
        colour = tuple(int(v) for v in rng.integers(20, 235, 3))
        write_product_photo(folder / f"p{i:02d}.jpg", colour, seed=i)
    return folder

"""Benchmark the HTTP API on loopback: /predict and /search under N concurrent clients.

Starts `python -m app.cli.main api` on 127.0.0.1 (a free port) over a temporary catalogue of
clothing-small photos, then for a fixed duration drives the endpoints with N client threads and
prints requests/s, p50/p99 latency and errors; then the same while a class is being updated.
Bounded in time; talks only to 127.0.0.1.

    python scripts/bench_api.py [--clients 4] [--seconds 15] [--per-class 20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from benchdata import rate_and_latency, run_clients

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.servers import free_port, wait_healthy  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clothing-small"


def _catalogue(work: Path, per_class: int) -> list[Path]:
    for cls in sorted((DATA / "train").iterdir()):
        for photo in sorted(cls.glob("*.jpg"))[:per_class]:
            (work / "products" / cls.name).mkdir(parents=True, exist_ok=True)
            (work / "products" / cls.name / photo.name).symlink_to(photo)
    return sorted((DATA / "test").glob("*/*.jpg"))


def _start_server(work: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "PRODUCTS_DIR": str(work / "products"),
        "INDEX_DIR": str(work / "index"),
        "DATABASE_URL": f"sqlite:///{work / 'app.db'}",
        "EXAMPLES_DIR": str(work / "examples"),
        "EMBEDDING_MODEL": "efficientnet-lite0",
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [sys.executable, "-m", "app.cli.main", "api", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _rebuild(base: str) -> None:
    job = httpx.post(f"{base}/rebuild", timeout=30).json()["job_id"]
    while (state := httpx.get(f"{base}/jobs/{job}", timeout=30).json())["status"] == "running":
        time.sleep(0.5)
    print(f"rebuild: {state['status']}, {state['result']}" if state["result"] else state)


def _drive(base: str, photos: list[Path], clients: int, seconds: float, route: str) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]

    def client(offset: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            i = offset
            while time.monotonic() < stop:
                photo = photos[i % len(photos)]
                start = time.perf_counter()
                r = http.post(route, files={"file": (photo.name, photo.read_bytes(), "image/jpeg")})
                latencies.append(time.perf_counter() - start)
                errors[0] += r.status_code >= 500 or r.status_code == 0
                i += clients

    run_clients(clients, client)
    return {**rate_and_latency(latencies, seconds), "errors": errors[0]}


def _updating(base: str, photos: list[Path], stop: threading.Event) -> None:
    i = 0
    with httpx.Client(base_url=base, timeout=60) as http:
        while not stop.is_set():
            pair = photos[i % len(photos) : i % len(photos) + 2]
            files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in pair]
            http.post("/class/update/shoes?append=false" if i else "/class/add/bench", files=files)
            i += 1


def _report(label: str, r: dict) -> None:
    print(f"{label:<34} {r['rps']:6.1f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
          f"n={r['n']}  5xx={r['errors']}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--per-class", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    photos = _catalogue(work, args.per_class)
    port = free_port()
    server = _start_server(work, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base)
        _rebuild(base)
        _drive(base, photos, 1, 2, "/predict")  # warm up
        for route in ("/predict", "/search"):
            _report(f"{route} ({args.clients} clients)", _drive(base, photos, args.clients,
                                                                 args.seconds, route))  # fmt: skip
        stop = threading.Event()
        updater = threading.Thread(target=_updating, args=(base, photos, stop))
        updater.start()
        result = _drive(base, photos, args.clients, args.seconds, "/predict")
        stop.set()
        updater.join()
        _report("/predict during class updates", result)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

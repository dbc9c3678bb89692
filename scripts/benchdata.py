"""Shared by the benchmark scripts: a products folder of symlinks to a class-folder data set,
settings that keep everything in a scratch folder, clients in threads."""

from __future__ import annotations

import statistics
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def link_class_folders(src: Path, dst: Path, limit: int | None) -> int:
    """`dst/<class>/<photo>.jpg` symlinks to the first `limit` photos of each class folder of
    `src` (all when None); returns how many were linked. Nothing is copied."""
    count = 0
    for cls in sorted(p for p in src.iterdir() if p.is_dir()):
        for photo in sorted(cls.glob("*.jpg"))[:limit]:
            (dst / cls.name).mkdir(parents=True, exist_ok=True)
            (dst / cls.name / photo.name).symlink_to(photo)
            count += 1
    return count


def scratch_folder(data: Path, prefix: str) -> Path:
    """A new temporary folder for a benchmark over `data`; when `data` is missing, says so and
    exits with status 1."""
    if not data.is_dir():
        print(f"data not found: {data}")
        raise SystemExit(1)
    return Path(tempfile.mkdtemp(prefix=prefix))


def scratch_settings(work: Path, **changes: Any) -> Any:
    """Settings (no .env) whose index, SQLite database and examples live in `work`."""
    from app.config import load_settings

    return load_settings(
        _env_file=None,
        index_dir=work / "index",
        database_url=f"sqlite:///{work / 'app.db'}",
        examples_dir=work / "examples",
        **changes,
    )


def run_clients(clients: int, client: Callable[[int], None]) -> None:
    """`client(n)` in `clients` threads at once (n = 0..clients-1); returns when all are done."""
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def rate_and_latency(latencies: list[float], seconds: float) -> dict[str, float]:
    """Requests per second over `seconds` and p50 / p99 latency in milliseconds."""
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99 or [0] * 99
    return {
        "rps": len(latencies) / seconds,
        "p50": q[49] * 1000,
        "p99": q[98] * 1000,
        "n": len(latencies),
    }

"""Servers on 127.0.0.1 for tests: a free port, and waiting until an API answers /health."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, server: subprocess.Popen | None = None, seconds: float = 120) -> None:
    """Return once GET {base}/health answers 200; else kill `server` and fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    if server is not None:
        server.kill()
    raise AssertionError("the API did not start")

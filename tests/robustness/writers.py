"""Real processes writing one gallery: the CLI command table in a long-lived process, the API
under uvicorn (one or more workers), and the REPL fed from a pipe. Only the neural network is a
stand-in (the thumbnail model of tests/fakes.py, optionally slowed down), so many processes start
fast; stores, databases, locks and front doors are the real ones. Settings come from the
environment (see `writer_env`), as for any deployment.

    python -m tests.robustness.writers cli NAME OPS SEED PHOTOS   # prints one JSON line per ack
    python -m tests.robustness.writers api PORT                   # one uvicorn worker
    python -m tests.robustness.writers repl                       # commands from stdin
    uvicorn tests.robustness.writers:app --workers 2              # several workers
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
from dependency_injector import providers

from tests.fakes import ThumbnailModel

REPO = Path(__file__).resolve().parents[2]
DELAY_VARIABLE = "FAKE_EMBED_DELAY"  # seconds per embedded batch (a slow model)


class SlowThumbnailModel(ThumbnailModel):
    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        time.sleep(float(os.environ.get(DELAY_VARIABLE, "0")))
        return super().embed_pixels(pixels)


def writer_env(state: Path, products: Path, **extra: str) -> dict[str, str]:
    """The environment of a writer process over the gallery in `state`."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "PRODUCTS_DIR": str(products),
        "INDEX_DIR": str(state / "index"),
        "DATABASE_URL": f"sqlite:///{state / 'app.db'}",
        "EXAMPLES_DIR": str(state / "examples"),
        "MODELS_DIR": str(state / "models"),
        "HISTORY_FILE": str(state / "history"),
        "BATCH_SIZE": "4",
        "DECODE_WORKERS": "1",
        **extra,
    }


def container():
    from app.container import build_container

    c = build_container()
    c.embedding_model.override(providers.Object(SlowThumbnailModel()))
    return c


class Plan:
    """Random class commands of one writer on classes of its own (`NAME-<i>`), and what the
    gallery must hold after each acknowledged one: class -> its example files (none: removed)."""

    def __init__(self, name: str, seed: int, photos: Path) -> None:
        self.name = name
        self.rng = random.Random(seed)
        self.pool = sorted(photos.glob("*.jpg"))
        self.held: dict[str, list[Path]] = {}
        self.steps = 0

    def next(self) -> tuple[str, str, list[Path]]:
        """(action: add / update / remove, class, files)."""
        self.steps += 1
        if self.held and self.rng.random() < 0.2:
            return "remove", self.rng.choice(sorted(self.held)), []
        if self.held and self.rng.random() < 0.3:
            name = self.rng.choice(sorted(self.held))
            unused = [p for p in self.pool if p not in self.held[name]]
            return "update", name, self.rng.sample(unused, 1)
        return "add", f"{self.name}-{self.steps}", self.rng.sample(self.pool, 2)

    def acknowledged(self, action: str, name: str, files: list[Path]) -> dict:
        if action == "remove":
            del self.held[name]
        else:
            self.held[name] = [*self.held.get(name, []), *files]
        return {"class": name, "examples": len(self.held.get(name, []))}


def cli_writer(name: str, ops: int, seed: int, photos: Path) -> None:
    """`ops` class commands through the CLI command table, at random moments; a JSON line
    before each (`begin`) and after each acknowledged one (exit 0)."""
    from app.cli.context import CliContext
    from app.cli.main import run

    c = container()
    plan = Plan(name, seed, photos)
    for _ in range(ops):
        time.sleep(plan.rng.uniform(0, 0.2))
        action, target, files = plan.next()
        ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=c)
        print(json.dumps({"begin": target}), flush=True)
        if run(["class", action, target, *map(str, files)], ctx) == 0:
            print(json.dumps(plan.acknowledged(action, target, files)), flush=True)
        else:
            print(json.dumps({"failed": target, "err": ctx.err.getvalue()}), flush=True)


def api_server(port: int) -> None:
    import uvicorn

    from app.api.main import create_app

    uvicorn.run(create_app(container()), host="127.0.0.1", port=port, log_level="warning")


def repl() -> None:
    from app.cli.context import CliContext
    from app.cli.repl import run_script

    ctx = CliContext(out=sys.stdout, err=sys.stderr, container_override=container())
    print("ready", flush=True)
    run_script(ctx, iter(sys.stdin.readline, ""))


def __getattr__(name: str):
    """`uvicorn tests.robustness.writers:app --workers N`: each worker builds its own app."""
    if name == "app":
        from app.api.main import create_app

        return create_app(container())
    raise AttributeError(name)


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "cli":
        cli_writer(rest[0], int(rest[1]), int(rest[2]), Path(rest[3]))
    elif mode == "api":
        api_server(int(rest[0]))
    else:
        repl()

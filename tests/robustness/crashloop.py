"""SIGKILL a real `rebuild` (a subprocess over real photos) at random moments and check the
state it leaves: the index and the database load and agree, and rebuilding on from there gives
what a clean rebuild gives. Shared by tests/robustness/test_crash_loop.py and
scripts/robustness_report.py.

Each kill leaves the state that the next run starts from (so kills land at every stage: start-up,
database creation, embedding, checkpoints, the final save); whenever a run completes, and after
the last kill, the result is compared with a clean rebuild and the state is wiped for a fresh
start. With `finish_each`, a copy of every killed state is also rebuilt on (in this process, one
shared loaded model) and compared with the clean rebuild. Checkpoints happen after every batch
(REBUILD_CHECKPOINT_SECONDS=0).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.config import Settings, load_settings
from app.container import build_container

REPO = Path(__file__).resolve().parents[2]
CLOTHING_TRAIN = REPO.parent / "shared" / "data" / "clothing-small" / "train"
MODEL = "efficientnet-lite0"
MAX_DELAY = 6.0  # seconds; runs go on from the state the last kill left, so later kills land later


@dataclass(frozen=True)
class Outcome:
    case: str
    outcome: str
    records_lost: int
    ok: bool


def photo_folder(root: Path, classes: int = 4, per_class: int = 10) -> Path:
    """`root/<class>/<photo>.jpg` symlinks to real photos (sorted, the first of each class)."""
    for folder in sorted(p for p in CLOTHING_TRAIN.iterdir() if p.is_dir())[:classes]:
        for photo in sorted(folder.glob("*.jpg"))[:per_class]:
            (root / folder.name).mkdir(parents=True, exist_ok=True)
            (root / folder.name / photo.name).symlink_to(photo)
    return root


def settings_for(products: Path, state: Path) -> Settings:
    return load_settings(
        _env_file=None, **{k.lower(): v for k, v in rebuild_env(products, state).items()}
    )


def rebuild_env(products: Path, state: Path) -> dict[str, str]:
    return {
        "PRODUCTS_DIR": str(products),
        "INDEX_DIR": str(state / "index"),
        "DATABASE_URL": f"sqlite:///{state / 'app.db'}",
        "EXAMPLES_DIR": str(state / "examples"),
        "MODELS_DIR": str(state.parent / "models"),  # the ONNX export survives the kills
        "EMBEDDING_MODEL": MODEL,
        "BATCH_SIZE": "4",
        "DECODE_WORKERS": "2",
        "REBUILD_CHECKPOINT_SECONDS": "0",
    }


class CrashLoop:
    """`run()` yields one Outcome per kill, plus one per completed-run comparison."""

    def __init__(self, work: Path, runs: int = 20, seed: int = 7, finish_each: bool = True) -> None:
        self.products = photo_folder(work / "products")
        self.state = work / "state"
        self.runs, self.finish_each = runs, finish_each
        self.scratch = work / "scratch"
        self.random = random.Random(seed)
        clean = build_container(settings_for(self.products, work / "clean"))
        clean.rebuild_service().run()
        self.model = clean.embedding_model()  # loaded once, shared by every check
        self.reference = self._snapshot(clean)

    def run(self, log: Callable[[str], None] = lambda _: None) -> list[Outcome]:
        started = time.monotonic()
        code = self._killed_run(600.0)  # an uncut run: how long a whole rebuild takes here
        whole = time.monotonic() - started
        outcomes = [self._compare(f"uncut run ({whole:.1f}s, exit {code})")]
        shutil.rmtree(self.state)
        for i in range(self.runs):
            delay = self.random.uniform(0.1, min(whole, MAX_DELAY))
            code = self._killed_run(delay)
            if code == 0:  # finished before the kill: it must match the clean rebuild
                outcomes.append(self._compare(f"run {i + 1}: completed before {delay:.1f}s"))
                shutil.rmtree(self.state)
                continue
            outcome = self._check_consistent(f"kill {i + 1} at {delay:.1f}s (exit {code})")
            if self.finish_each and outcome.ok:
                outcome = self._finish_a_copy(outcome)
            outcomes.append(outcome)
            log(f"{outcome.case}: {outcome.outcome}")
        self._finish()
        outcomes.append(self._compare("next rebuild after the last kill"))
        return outcomes

    def _killed_run(self, delay: float) -> int:
        env = {**os.environ, **rebuild_env(self.products, self.state), "PYTHONPATH": str(REPO)}
        env.setdefault("HF_HUB_OFFLINE", "1")
        self.state.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "rebuild"],
            cwd=self.state,  # no .env of the checkout is read
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            return proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            return proc.wait()

    def _container(self, state: Path | None = None):
        from dependency_injector import providers

        c = build_container(settings_for(self.products, state or self.state))
        c.embedding_model.override(providers.Object(self.model))
        return c

    def _check_consistent(self, case: str, state: Path | None = None) -> Outcome:
        c = self._container(state)
        rows = c.repository().list_images()
        store = c.vector_store()
        ids = set(store.ids().tolist())
        # a row stamped as embedded whose vector is not in the index as loaded is lost; an
        # unstamped row (written before the checkpoint that saves its vector) is not: the next
        # rebuild embeds it (no index saved yet has no stamp: None must not match those rows)
        stamped = [r for r in rows if r.embedding_model is not None]
        lost = sum(r.embedding_model != store.model_stamp or r.id not in ids for r in stamped)
        orphans = ids - {r.id for r in rows}
        ok = not orphans and not lost and store.load_problem is None
        what = f"loads, {len(ids)} vectors, {len(rows)} rows ({len(rows) - len(stamped)} unstamped)"
        if orphans:
            what += f", {len(orphans)} vectors without a row"
        if store.load_problem:
            what = f"DOES NOT LOAD ({store.load_problem}): {what}"
        return Outcome(case, what, lost, ok)

    def _finish(self, state: Path | None = None) -> None:
        self._container(state).rebuild_service().run()

    def _finish_a_copy(self, killed: Outcome) -> Outcome:
        """Rebuild on from a copy of the killed state (the chain goes on from the original)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        shutil.copytree(self.state, self.scratch)
        self._finish(self.scratch)
        done = self._compare("", self.scratch)
        lost = max(killed.records_lost, done.records_lost)
        return Outcome(killed.case, f"{killed.outcome}; then {done.outcome}", lost, done.ok)

    def _compare(self, case: str, state: Path | None = None) -> Outcome:
        mine = self._snapshot(self._container(state))
        ref = self.reference
        lost = len(set(ref) - set(mine))
        extra = len(set(mine) - set(ref))
        worst = min(
            (float(np.dot(mine[p][1], ref[p][1])) for p in set(ref) & set(mine)), default=1.0
        )
        same = all(mine[p][0] == ref[p][0] for p in set(ref) & set(mine))
        ok = not lost and not extra and same and worst > 0.999
        what = f"{len(mine)}/{len(ref)} as clean (min cos {worst:.4f})"
        return Outcome(case, what if ok else f"DIFFERS: {what}, {extra} extra", lost, ok)

    @staticmethod
    def _snapshot(c) -> dict[str, tuple[str, np.ndarray]]:
        rows = [r for r in c.repository().list_images() if r.embedding_model]
        vectors = c.vector_store().vectors(np.array([r.id for r in rows], dtype=np.int64))
        return {r.path: (r.product_id, v) for r, v in zip(rows, vectors, strict=True)}

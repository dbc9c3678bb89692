"""SIGKILL `rebuild` at 20 random moments over ~40 real photos: nothing is ever lost or out of
step, and rebuilding on gives what a clean rebuild gives (see crashloop.py). Plus the moment
that made the loop flaky, hit on purpose: a rebuild stopped after its first batch's rows are
written but before the first checkpoint saves their vectors (no index saved yet)."""

from __future__ import annotations

import shutil

import pytest

from app.infrastructure.files import MANIFEST_NAME
from app.services.rebuild_commits import Commits
from tests.robustness.crashloop import CLOTHING_TRAIN, CrashLoop


@pytest.fixture(scope="module")
def loop(tmp_path_factory) -> CrashLoop:
    if not CLOTHING_TRAIN.is_dir():
        pytest.skip(f"real photos not found at {CLOTHING_TRAIN} (see ../shared/data/README.md)")
    return CrashLoop(tmp_path_factory.mktemp("crash-loop"), runs=20)


@pytest.fixture
def fresh(loop: CrashLoop) -> CrashLoop:
    shutil.rmtree(loop.state, ignore_errors=True)  # each test starts without an index
    return loop


class Killed(BaseException):
    """Stands in for SIGKILL: nothing in the application catches it."""


@pytest.mark.slow
def test_rebuild_killed_at_random_moments(fresh):
    outcomes = fresh.run()
    bad = [o for o in outcomes if not o.ok or o.records_lost]
    assert not bad, bad
    assert sum(o.case.startswith("kill") for o in outcomes) >= 10  # most runs were cut short


@pytest.mark.slow
def test_killed_before_the_first_checkpoint_saves(fresh, monkeypatch):
    def die(self: Commits) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(Commits, "checkpoint", die)
        with pytest.raises(Killed):
            fresh._finish()
    killed = fresh._container()
    rows = killed.repository().list_images()
    assert len(rows) == 4 and not any(r.embedding_model for r in rows)  # one batch, unstamped
    index = killed.vector_store().directory
    assert not (index / MANIFEST_NAME).exists()  # and no index saved yet

    # nothing was acknowledged as embedded, so nothing is lost; rebuilding on completes it
    outcome = fresh._check_consistent("killed before the first save")
    assert outcome.ok and outcome.records_lost == 0, outcome
    assert "0 vectors, 4 rows (4 unstamped)" in outcome.outcome
    done = fresh._finish_a_copy(outcome)  # rebuilt on in fresh.scratch
    assert done.ok and done.records_lost == 0 and "40/40 as clean" in done.outcome, done

    # the converse stays caught: rows stamped as embedded beside an index that is gone
    (fresh.scratch / index.relative_to(fresh.state) / MANIFEST_NAME).unlink()
    gone = fresh._check_consistent("index gone", fresh.scratch)
    assert not gone.ok and gone.records_lost == 40, gone

"""SIGKILL `rebuild` at 20 random moments over ~40 real photos: nothing is ever lost or out of
step, and rebuilding on gives what a clean rebuild gives (see crashloop.py)."""

from __future__ import annotations

import pytest

from tests.robustness.crashloop import CLOTHING_TRAIN, CrashLoop


@pytest.mark.slow
def test_rebuild_killed_at_random_moments(tmp_path):
    if not CLOTHING_TRAIN.is_dir():
        pytest.skip(f"real photos not found at {CLOTHING_TRAIN} (see ../shared/data/README.md)")
    outcomes = CrashLoop(tmp_path, runs=20).run()
    bad = [o for o in outcomes if not o.ok or o.records_lost]
    assert not bad, bad
    assert sum(o.case.startswith("kill") for o in outcomes) >= 10  # most runs were cut short

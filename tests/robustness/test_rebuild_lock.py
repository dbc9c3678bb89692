"""The rebuild lock: a second rebuild of the same index fails at once naming the holder; a lock
file left by a dead process is taken over."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from app.domain.errors import Conflict
from app.infrastructure.rebuild_lock import LOCK_FILE_NAME, RebuildLock

_HOLD = """
import sys, time
from pathlib import Path
from app.infrastructure.rebuild_lock import RebuildLock
with RebuildLock(Path(sys.argv[1])).held():
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(settings):
    """Another process holding the lock of the test index, like a running rebuild."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(settings.index_dir)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_second_rebuild_fails_at_once_naming_the_holder(cli, container, holder):
    started = time.monotonic()
    with pytest.raises(Conflict, match=rf"another rebuild .* pid {holder.pid} on "):
        container.rebuild_service().run()
    ran = cli("rebuild")
    assert ran.code == 1 and f"pid {holder.pid}" in ran.err and "Traceback" not in ran.err
    assert time.monotonic() - started < 5
    assert len(container.vector_store()) == 0  # it wrote nothing


def test_lock_is_free_again_when_the_holder_dies(cli, holder):
    holder.kill()
    holder.wait()
    assert cli("rebuild").code == 0


def test_stale_lock_file_of_a_dead_pid_is_taken_over(cli, settings):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    settings.index_dir.mkdir(parents=True)
    stale = {"pid": dead.pid, "host": "elsewhere", "started": "2020-01-01T00:00:00+00:00"}
    (settings.index_dir / LOCK_FILE_NAME).write_text(json.dumps(stale))
    ran = cli("rebuild")
    assert ran.code == 0, ran.err
    assert (settings.index_dir / LOCK_FILE_NAME).read_text() == ""  # released


def test_lock_records_the_holder_while_held(tmp_path):
    lock = RebuildLock(tmp_path)
    with lock.held():
        info = json.loads(lock.path.read_text())
        assert set(info) == {"pid", "host", "started"}
        with pytest.raises(Conflict, match=str(info["pid"])), RebuildLock(tmp_path).held():
            pass
    with RebuildLock(tmp_path).held():  # released: free again
        pass


def test_writer_lock_waits_for_its_holder_then_times_out_naming_it(tmp_path):
    from app.infrastructure.rebuild_lock import WriterLock

    with WriterLock(tmp_path).held():
        started = time.monotonic()
        waiting = WriterLock(tmp_path, wait=0.3)
        with pytest.raises(Conflict, match=r"kept the index locked .* pid "), waiting.held():
            pass
        assert 0.3 <= time.monotonic() - started < 5
    with WriterLock(tmp_path, wait=0.3).held():  # free again
        pass

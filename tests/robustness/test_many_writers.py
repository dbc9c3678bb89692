"""Many processes write one gallery at once (API servers, uvicorn workers, CLI processes), at
random moments and sometimes SIGKILLed: every acknowledged change survives, every removed class is
gone, and the index holds exactly the database's images. Real processes, real stores and
databases; only the network is the thumbnail stand-in (see writers.py).

More rounds: IMGRECOG_WRITER_ROUNDS=20 (default 1); each round uses a new seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.robustness.many_writers import OPS, audit, gallery, photo_pool, run_round
from tests.robustness.writers import writer_env

ROUNDS = int(os.environ.get("IMGRECOG_WRITER_ROUNDS", "1"))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    (tmp_path / "products").mkdir()
    return photo_pool(tmp_path / "photos")


def check(env, done, exact: bool = True) -> None:
    """Acknowledged classes hold their examples, each with its vector; removed ones are gone;
    no vector without its image; with `exact`, every image has its vector and `stats` of the
    index equals the database."""
    assert not done.failures, done.failures
    found = audit(env, done)
    assert found.lost == 0 and found.orphans == 0, found
    if exact:
        assert found.unindexed == 0, found
        c = gallery(env)
        assert c.stats_service().get().index.size == c.repository().count_images() == found.rows


BACKENDS = {
    "sqlite-faiss-flat": {},
    "sqlite-faiss-hnsw": {"FAISS_INDEX": "hnsw"},
    "sqlite-memory-store": {"VECTOR_STORE": "memory"},
}


@pytest.mark.parametrize("backend", [*BACKENDS, "postgresql-faiss"])
def test_api_server_and_cli_processes(backend, tmp_path, photos, request):
    extra = dict(BACKENDS.get(backend, {}))
    if backend == "postgresql-faiss":
        extra["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    env = writer_env(tmp_path / "state", tmp_path / "products", **extra)
    clis = 2 if backend == "sqlite-faiss-flat" else 1  # three processes, or two (CI time)
    for seed in range(1, ROUNDS + 1):
        done = run_round(env, photos, seed, clis=clis)
        assert done.writes == (clis + 1) * OPS and not done.unsure
        check(env, done)


@pytest.mark.parametrize(
    "writers",
    [
        pytest.param({"workers": 2, "clis": 1, "http": 2}, id="two-uvicorn-workers-and-a-cli"),
        pytest.param({"apis": 2, "clis": 0, "http": 2}, id="two-api-servers-on-one-index"),
    ],
)
def test_api_processes_and_clis_on_one_index(tmp_path, photos, writers):
    env = writer_env(tmp_path / "state", tmp_path / "products")
    for seed in range(1, ROUNDS + 1):
        done = run_round(env, photos, seed, **writers)
        check(env, done)


def test_cli_writer_killed_mid_write(tmp_path, photos):
    """SIGKILL one of two CLI writers at a random moment: nothing acknowledged is lost, the
    index loads, and the next rebuild makes index and database agree exactly."""
    env = writer_env(tmp_path / "state", tmp_path / "products")
    for seed in range(1, ROUNDS + 1):
        done = run_round(env, photos, seed, apis=0, http=0, kill=True)
        check(env, done, exact=False)
        gallery(env).rebuild_service().run()
        check(env, done)


def test_qdrant_local_mode_refuses_a_second_process_in_one_line(tmp_path, photos):
    """Local mode is single-process by design: the second process is told so, nothing breaks."""
    env = writer_env(tmp_path / "state", tmp_path / "products", VECTOR_STORE="qdrant")
    done = run_round(env, photos, seed=1, clis=1, http=1)
    refused = [f for f in done.failures if f.startswith("cli")]
    assert len(refused) == OPS, done.failures  # every command of the CLI process, in one line
    for line in refused:
        assert "in use by another process" in line and "QDRANT_URL" in line
        assert "\n" not in line and "Traceback" not in line
    assert done.writes == OPS  # the server's own writes all went through
    found = audit(env, done)
    assert found.lost == found.orphans == found.unindexed == 0, found

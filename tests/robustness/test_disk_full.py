"""A full disk: one clear line (CLI) or one JSON error (API) naming the device and the path;
the change is all or nothing (files, rows, vectors, in memory and on disk); reads keep working;
the same command succeeds once space is freed."""

from __future__ import annotations

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

import app.disk_space
from app.api.main import create_app
from app.container import build_container
from conftest import run_cli, write_product_photo
from tests.api.conftest import jpeg
from tests.robustness.small_disk import fill, small_disk
from tests.support.relocated import state_in

YELLOW = (230, 210, 20)


@pytest.fixture
def disk(tmp_path):
    with small_disk(tmp_path / "disk") as mounted:
        yield mounted


@pytest.fixture
def on_disk(settings, fake_model, disk):
    """A container whose index, database and examples live on the small disk."""
    built = []

    def make():
        c = build_container(state_in(settings, disk))
        c.embedding_model.override(providers.Object(fake_model))
        built.append(c)
        return c

    yield make
    for c in built:
        c.repository().close()


def _state(container, disk) -> tuple[list[str], list[tuple[int, bool]], int]:
    """Example files, the rows of class yellow (id, stamped) and the number of vectors."""
    files = sorted(p.name for p in (disk / "examples").rglob("*") if p.is_file())
    rows = [(r.id, r.embedding_model is not None) for r in container.repository().list_images()]
    return files, rows, len(container.vector_store())


def _one_clear_line(err: str, disk) -> None:
    assert err.startswith("error: no space left on device tmpfs") and err.count("\n") == 1, err
    assert f"mounted at {disk}" in err and "Traceback" not in err


def test_cli_full_disk_one_line_nothing_changed_reads_work_retry_succeeds(on_disk, disk, tmp_path):
    c = on_disk()
    assert run_cli(c, "rebuild")[0] == 0
    photos = [write_product_photo(tmp_path / "y" / f"{i}.jpg", YELLOW, seed=i) for i in range(3)]
    before = _state(c, disk)
    filler = fill(disk)

    code, _, err = run_cli(c, "class", "add", "yellow", str(tmp_path / "y"))
    assert code == 1
    _one_clear_line(err, disk)
    code, _, err = run_cli(c, "rebuild", "--full")
    assert code == 1
    _one_clear_line(err, disk)
    assert _state(c, disk) == before and _state(on_disk(), disk) == before  # memory and disk

    code, out, _ = run_cli(c, "stats")  # reads keep working
    assert code == 0 and "9 vectors" in out and "all indexed" in out
    code, out, _ = run_cli(c, "query", "--image", str(photos[0]))
    assert code == 0 and "red-shoe" in out  # the 5 hits include every class

    filler.unlink()
    code, out, err = run_cli(c, "class", "add", "yellow", str(tmp_path / "y"))
    assert code == 0, err
    assert run_cli(c, "rebuild", "--full")[0] == 0
    assert _state(on_disk(), disk)[2] == 12


@pytest.mark.parametrize("keep", [8 << 10, 16 << 10, 24 << 10, 32 << 10])
def test_a_change_that_runs_out_midway_is_undone(on_disk, disk, tmp_path, monkeypatch, keep):
    """With the free-space check off, the disk fills at some step of `class add` (copies,
    rows, index save): every step is taken back and the retry succeeds."""
    monkeypatch.setattr(app.disk_space, "ROOM_MARGIN", 0)
    c = on_disk()
    assert run_cli(c, "rebuild")[0] == 0
    for i in range(3):
        write_product_photo(tmp_path / "y" / f"{i}.jpg", YELLOW, seed=i)
    files, _, vectors = _state(c, disk)
    filler = fill(disk, keep)
    code, _, err = run_cli(c, "class", "add", "yellow", str(tmp_path / "y"))
    if code == 0:  # it fitted: nothing to undo at this size
        filler.unlink()
        return
    assert "no space left on device tmpfs" in err, err
    for seen in (c, on_disk()):  # in memory, and as a restart finds it
        now_files, rows, now_vectors = _state(seen, disk)
        assert (now_files, now_vectors) == (files, vectors)
        assert all(stamped for _, stamped in rows[:9]) and not any(s for _, s in rows[9:])
    filler.unlink()
    code, out, err = run_cli(c, "class", "add", "yellow", str(tmp_path / "y"))
    assert code == 0 and "added 3" in out, err
    assert _state(on_disk(), disk)[2] == vectors + 3


def test_api_full_disk_is_a_507_json_naming_the_device(on_disk, disk):
    c = on_disk()
    c.rebuild_service().run(None)
    blobs = [("files", (f"{i}.jpg", jpeg(YELLOW, i), "image/jpeg")) for i in range(3)]
    with TestClient(create_app(c, warm_up=False)) as client:
        filler = fill(disk)
        r = client.post("/class/add/yellow", files=blobs)
        assert r.status_code == 507, r.text
        assert "no space left on device tmpfs" in r.json()["message"]
        assert client.get("/health").status_code == 200
        query = {"file": ("q.jpg", jpeg(YELLOW, 9))}
        assert client.post("/predict", files=query).status_code == 200
        filler.unlink()
        r = client.post("/class/add/yellow", files=blobs)
        assert r.status_code == 200, r.text
        r = client.post("/predict", files={"file": ("q.jpg", jpeg(YELLOW, 9))})
        assert r.json()["predicted_class"] == "yellow"

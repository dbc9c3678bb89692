"""Atomic writes and generational saves (app/infrastructure/files.py)."""

from __future__ import annotations

import threading

import pytest

from app.infrastructure import files
from app.infrastructure.files import GenerationalFiles, atomic_write, atomic_write_bytes


def test_atomic_write_bytes_replaces_content(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_failing_writer_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"old")

    def half_then_fail(handle):
        handle.write(b"new but incomplete")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def writer(data: bytes):
    return lambda handle: handle.write(data)


def test_generations_commit_read_and_clean_up(tmp_path):
    gens = GenerationalFiles(tmp_path)
    assert gens.read() is None
    assert gens.bytes_on_disk() == 0
    gens.commit({"data.bin": writer(b"1")}, {"n": 1})
    (tmp_path / "unrelated-000001.txt").write_text("not ours")
    second = gens.commit({"data.bin": writer(b"22")}, {"n": 2})
    manifest = gens.read()
    assert manifest == second
    assert manifest.generation == 2
    assert manifest.meta == {"n": 2}
    assert manifest.files["data.bin"].read_bytes() == b"22"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".lock", "data-000002.bin", "manifest.json", "unrelated-000001.txt"]
    assert gens.bytes_on_disk() == 2 + (tmp_path / "manifest.json").stat().st_size


def test_crash_at_commit_point_keeps_previous_generation(tmp_path, monkeypatch):
    gens = GenerationalFiles(tmp_path)
    gens.commit({"data.bin": writer(b"old")}, {"n": 1})
    monkeypatch.setattr(files, "atomic_write_bytes", lambda *a: (_ for _ in ()).throw(OSError()))
    with pytest.raises(OSError):
        gens.commit({"data.bin": writer(b"new")}, {"n": 2})
    monkeypatch.undo()
    manifest = gens.read()
    assert (manifest.generation, manifest.meta) == (1, {"n": 1})
    assert manifest.files["data.bin"].read_bytes() == b"old"


def test_corrupt_manifest_raises_os_error(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(OSError, match="manifest"):
        GenerationalFiles(tmp_path).read()


def test_logical_names_must_not_contain_dashes(tmp_path):
    with pytest.raises(ValueError, match="logical file name"):
        GenerationalFiles(tmp_path).commit({"my-data.bin": writer(b"")}, {})


def test_commit_waits_for_readers(tmp_path):
    gens = GenerationalFiles(tmp_path)
    gens.commit({"data.bin": writer(b"old")}, {"n": 1})
    committer = threading.Thread(target=gens.commit, args=({"data.bin": writer(b"new")}, {}))
    with GenerationalFiles(tmp_path).reading():
        old = gens.read()
        committer.start()
        committer.join(timeout=0.3)
        assert committer.is_alive()  # blocked: the files being read are not deleted under us
        assert old.files["data.bin"].read_bytes() == b"old"
    committer.join(timeout=10)
    assert gens.read().generation == 2

"""The Documents port on JSON files: what is written is read back, replaced atomically, and a
missing or damaged file is the error the use cases map (NotFound / ConfigError)."""

from __future__ import annotations

import os

import pytest

from app.infrastructure.documents.json_files import JsonFiles


def test_round_trip_in_new_folders_utf8_and_shareable(tmp_path):
    files = JsonFiles()
    path = tmp_path / "a" / "b" / "report.json"
    data = {"classes": ["bérets", "hats"], "recall@1": 0.75, "counts": [[1, 0], [0, 2]]}
    assert files.write(path, data, indent=1) == path
    assert files.exists(path) and files.read(path) == data
    assert "bérets" in path.read_text(encoding="utf-8")
    assert os.stat(path).st_mode & 0o777 == 0o644
    files.write(path, [1, 2])
    assert files.read(path) == [1, 2] and os.listdir(path.parent) == ["report.json"]


def test_missing_damaged_and_removed(tmp_path):
    files = JsonFiles()
    with pytest.raises(FileNotFoundError):
        files.read(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError):
        files.read(tmp_path / "bad.json")
    files.remove(tmp_path / "bad.json")
    files.remove(tmp_path / "bad.json")  # absent is fine
    assert not files.exists(tmp_path / "bad.json")

"""The one atomic writer (app/atomic_files.py): one durability and permission policy."""

from __future__ import annotations

import json
import os
import stat

import pytest

from app.atomic_files import FILE_MODE, atomic_write, atomic_write_bytes, atomic_write_json


def test_written_files_are_shareable_not_private(tmp_path):
    target = tmp_path / "model.pt"
    atomic_write_bytes(target, b"weights")
    assert stat.S_IMODE(target.stat().st_mode) == FILE_MODE == 0o644


def test_json_keeps_non_ascii_and_replaces_whole_file(tmp_path):
    target = tmp_path / "classes.json"
    atomic_write_json(target, {"café": 0, "long": list(range(50))})
    atomic_write_json(target, {"thé": 1})
    assert json.loads(target.read_text(encoding="utf-8")) == {"thé": 1}
    assert "thé" in target.read_text(encoding="utf-8")
    assert os.listdir(tmp_path) == ["classes.json"]


def test_interrupted_write_leaves_old_content_and_no_temp(tmp_path):
    target = tmp_path / "split.json"
    atomic_write_json(target, ["a.jpg"])

    def interrupted(handle):
        handle.write(b'["b.jp')
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, interrupted)
    assert json.loads(target.read_text()) == ["a.jpg"]
    assert os.listdir(tmp_path) == ["split.json"]

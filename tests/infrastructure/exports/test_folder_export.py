"""The DatasetExport port on a folder: a copy is made once (an existing one is kept), tables
are CSV, both in folders created on the way."""

from __future__ import annotations

import csv

from app.infrastructure.exports.folder_export import FolderExport


def test_copies_once_and_writes_a_csv_table(tmp_path):
    source = tmp_path / "kept.jpg"
    source.write_bytes(b"photo")
    export, target = FolderExport(), tmp_path / "out" / "red-shoe" / "abc_0.jpg"
    assert export.copy(source, target) and target.read_bytes() == b"photo"
    source.write_bytes(b"changed")
    assert not export.copy(source, target) and target.read_bytes() == b"photo"
    path = export.table(tmp_path / "out" / "t.csv", ["a", "note"], [[1, "béret, blue"], [2, None]])
    with open(path, newline="", encoding="utf-8") as stream:
        assert list(csv.reader(stream)) == [["a", "note"], ["1", "béret, blue"], ["2", ""]]

"""Scanning the catalogue: a file whose size and mtime are unchanged is not read again; any
change to either re-reads it; a file modified just now is not trusted by its mtime."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from app.services import scanning
from app.services.scanning import content_hash, scan_catalogue

HOUR_NS = 3600 * 10**9


def _age(root: Path) -> None:
    """Every file modified an hour ago (test files are brand new, too recent to be trusted)."""
    old = time.time_ns() - HOUR_NS
    for path in root.rglob("*.*"):
        os.utime(path, ns=(old, old))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files whose bytes the scan hashes, in order."""
    seen: list[Path] = []

    def counting(path: Path) -> str:
        seen.append(path)
        return content_hash(path)

    monkeypatch.setattr(scanning, "content_hash", counting)
    return seen


def _known(root: Path) -> dict:
    found, skipped = scan_catalogue(root)
    assert not skipped
    return {f.path: f for f in found}


def test_unchanged_files_are_not_read_again(catalogue: Path, reads: list[Path]) -> None:
    _age(catalogue)
    known = _known(catalogue)
    assert len(reads) == 9 and all(f.mtime_ns for f in known.values())
    reads.clear()
    again, _ = scan_catalogue(catalogue, known=known)
    assert reads == []
    assert {f.path: f for f in again} == known


def test_a_changed_size_or_mtime_reads_the_file_again(catalogue: Path, reads: list[Path]) -> None:
    _age(catalogue)
    known = _known(catalogue)
    reads.clear()
    same_size = catalogue / "red-shoe" / "view0.jpg"
    data = bytearray(same_size.read_bytes())
    data[-3] ^= 0xFF  # new content, same size, mtime an hour later than recorded
    same_size.write_bytes(bytes(data))
    later = known[str(same_size)].mtime_ns + HOUR_NS // 2
    os.utime(same_size, ns=(later, later))
    grown = catalogue / "green-hat" / "view1.jpg"
    mtime = known[str(grown)].mtime_ns
    grown.write_bytes(grown.read_bytes() + b"\0")
    os.utime(grown, ns=(mtime, mtime))  # same mtime, new size
    again = {f.path: f for f in scan_catalogue(catalogue, known=known)[0]}
    assert sorted(reads) == sorted([same_size, grown])
    for path in (same_size, grown):
        assert again[str(path)].content_hash == content_hash(path) != known[str(path)].content_hash


def test_a_file_modified_just_now_keeps_no_mtime(catalogue: Path, reads: list[Path]) -> None:
    _age(catalogue)
    fresh = catalogue / "blue-dress" / "view0.jpg"
    fresh.touch()
    known = _known(catalogue)
    assert known[str(fresh)].mtime_ns is None  # the next scan reads it again
    reads.clear()
    scan_catalogue(catalogue, known=known)
    assert reads == [fresh]

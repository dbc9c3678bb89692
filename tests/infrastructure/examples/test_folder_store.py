"""The ExampleStore port on a folder: content-addressed copies per class, bad images skipped,
deletes only ever inside its own folder."""

from __future__ import annotations

import os

import pytest

from app.domain.errors import ImageError, ImageFailure
from app.domain.images import ImageInput
from app.infrastructure.examples.folder_store import FolderExampleStore


@pytest.fixture
def store(tmp_path) -> FolderExampleStore:
    return FolderExampleStore(tmp_path / "examples", max_bytes=100)


def test_the_same_bytes_are_one_copy_per_class_named_by_content(store, tmp_path):
    photo = tmp_path / "Shoe.JPG"
    photo.write_bytes(b"jpeg bytes")
    first = store.store("red-shoe", ImageInput.file(photo))
    again = store.store("red-shoe", ImageInput.upload("upload.jpg", b"jpeg bytes"))
    other = store.store("blue-shoe", ImageInput.upload("x.unknown", b"jpeg bytes"))
    assert first.created and not again.created and again.path == first.path
    assert first.path == store.root / "red-shoe" / f"{first.content_hash}.jpg"
    assert first.content_hash == ImageInput.file(photo).digest and first.size_bytes == 10
    assert (first.origin, again.origin) == (str(photo), "upload.jpg")
    assert other.path.suffix == ".img" and first.path.read_bytes() == b"jpeg bytes"


def test_store_all_skips_too_large_and_unreadable_images_and_keeps_the_rest(store, tmp_path):
    images = [
        ImageInput.upload("big.jpg", b"x" * 101),
        ImageInput.file(tmp_path / "missing.jpg"),
        ImageInput.upload("ok.png", b"fine"),
    ]
    stored, skipped = store.store_all("hat", images)
    assert [s.origin for s in stored] == ["ok.png"]
    assert [(s.path, s.kind) for s in skipped] == [
        ("big.jpg", ImageFailure.TOO_LARGE),
        (str(tmp_path / "missing.jpg"), ImageFailure.UNREADABLE),
    ]
    with pytest.raises(ImageError, match=r"big\.jpg: too large: 101 bytes > limit 100"):
        store.store("hat", images[0])


def test_delete_removes_only_its_own_copies_and_empty_class_folders(store, tmp_path):
    kept = store.store("hat", ImageInput.upload("a.jpg", b"a"))
    outside = tmp_path / "not-mine.jpg"
    outside.write_bytes(b"b")
    store.delete([str(kept.path), str(outside), str(store.root / "hat" / "gone.jpg")])
    assert not kept.path.exists() and not (store.root / "hat").exists()
    assert outside.read_bytes() == b"b"


def test_keep_newest(store):
    copies = [store.store("queries", ImageInput.upload(f"{i}.jpg", bytes([i]))) for i in range(3)]
    for age, copy in enumerate(reversed(copies)):  # copies[0] oldest
        os.utime(copy.path, ns=(10**9 * (100 - age), 10**9 * (100 - age)))
    assert store.keep_newest("queries", 1) == [c.path for c in copies[:2]]
    assert [p.name for p in (store.root / "queries").iterdir()] == [copies[2].path.name]
    assert store.keep_newest("nothing-here", 1) == []

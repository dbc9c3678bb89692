"""Find image files under a folder (recursively, following symlinks safely) and hash them.

A file whose size and modification time (ns) equal the fingerprint recorded when it was last
hashed keeps that content hash without being read again (as `git status` and `rsync` judge
files); any change to either re-hashes it, and the content hash stays the file's identity. A file
modified within the last few seconds is hashed but its mtime is not recorded, so a later write in
the same tick of a coarse file-system clock cannot hide behind it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.domain.images import IMAGE_EXTENSIONS, ImageInput, content_hash
from app.domain.models import ScannedFile, SkippedFile, unreadable

# a file's mtime is recorded only once it is this old (coarse clocks: FAT 2 s, some NFS 1 s)
SETTLED_NS = 3_000_000_000


def iter_image_files(root: Path) -> Iterator[Path]:
    """Image files under `root`, sorted per folder; symlinked folders followed, loops cut."""
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        base = Path(folder)
        for name in sorted(files):
            if os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS:
                yield base / name


def expand_images(images: Iterable[ImageInput]) -> list[ImageInput]:
    """Files and uploads stay as given; folders expand to the image files under them."""
    out: list[ImageInput] = []
    for image in images:
        folder = image.path is not None and image.path.is_dir()
        out.extend(ImageInput.files(iter_image_files(image.path)) if folder else [image])
    return out


NOT_UTF8 = "file name is not valid UTF-8"


def _printable(path: Path) -> str:
    """The path with undecodable bytes shown as \\xNN (safe to print, log and store)."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _unchanged(path: Path, known: Mapping[str, ScannedFile]) -> ScannedFile | SkippedFile | None:
    """The file as last scanned when its size and mtime are unchanged; a skip when it cannot
    be named or stat'ed; None when it must be hashed."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # os.walk gave surrogates: no database or JSON can hold them
        return SkippedFile(_printable(path), NOT_UTF8)
    before = known.get(str(path))
    if before is None or before.mtime_ns is None:
        return None
    try:
        info = path.stat()
    except OSError as exc:
        return unreadable(path, exc)
    same = (info.st_size, info.st_mtime_ns) == (before.size_bytes, before.mtime_ns)
    return before if same else None


def _scan_one(path: Path) -> ScannedFile | SkippedFile:
    try:
        info = path.stat()
        digest = content_hash(path)
    except OSError as exc:
        return unreadable(path, exc)
    settled = time.time_ns() - info.st_mtime_ns > SETTLED_NS
    mtime = info.st_mtime_ns if settled else None
    return ScannedFile(str(path), path.parent.name, digest, info.st_size, mtime)


def scan_catalogue(
    root: Path, workers: int = 4, known: Mapping[str, ScannedFile] | None = None
) -> tuple[list[ScannedFile], list[SkippedFile]]:
    """Every image file under `root` with its product id (parent folder name) and content hash;
    `known`: the files as last scanned, by path (their hash is reused when size and mtime match)."""
    paths = list(iter_image_files(root))
    first = [_unchanged(path, known or {}) for path in paths]
    to_hash = [path for path, found in zip(paths, first, strict=True) if found is None]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        hashed = iter(list(pool.map(_scan_one, to_hash)))
    results = [found if found is not None else next(hashed) for found in first]
    scanned = [r for r in results if isinstance(r, ScannedFile)]
    skipped = [r for r in results if isinstance(r, SkippedFile)]
    return scanned, skipped

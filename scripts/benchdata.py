"""Shared by the benchmark scripts: a products folder of symlinks to a class-folder data set."""

from __future__ import annotations

from pathlib import Path


def link_class_folders(src: Path, dst: Path, limit: int | None) -> int:
    """`dst/<class>/<photo>.jpg` symlinks to the first `limit` photos of each class folder of
    `src` (all when None); returns how many were linked. Nothing is copied."""
    count = 0
    for cls in sorted(p for p in src.iterdir() if p.is_dir()):
        for photo in sorted(cls.glob("*.jpg"))[:limit]:
            (dst / cls.name).mkdir(parents=True, exist_ok=True)
            (dst / cls.name / photo.name).symlink_to(photo)
            count += 1
    return count

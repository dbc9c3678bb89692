"""ExampleStore in a folder: EXAMPLES_DIR/<class_name>/<content hash><ext>.

Examples are copied (not referenced) so that they survive the user deleting the originals and so
that uploads (bytes) are stored the same way. Names are content-addressed: the same image added
twice to a class is one file (and one gallery row).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from app.atomic_files import atomic_write_bytes
from app.disk_space import ensure_room
from app.domain.errors import ImageError, ImageFailure
from app.domain.images import IMAGE_EXTENSIONS, ImageInput, bytes_hash
from app.domain.models import SkippedFile, StoredExample, unreadable

DEFAULT_SUFFIX = ".img"
TOO_LARGE = ImageFailure.TOO_LARGE


class FolderExampleStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def store_all(
        self, class_name: str, sources: list[ImageInput]
    ) -> tuple[list[StoredExample], list[SkippedFile]]:
        """Copy each source into the class folder; unreadable ones are skipped with the reason.
        All or nothing on a full disk: room is checked first, and when a copy still fails the
        copies made so far are deleted."""
        ensure_room(self.root, sum(_size_of(source) for source in sources))
        stored, skipped = [], []
        try:
            for source in sources:
                try:
                    stored.append(self.store(class_name, source))
                except ImageError as exc:
                    skipped.append(SkippedFile.of(exc))
        except BaseException:
            self.delete([str(s.path) for s in stored if s.created])
            raise
        return stored, skipped

    def store(self, class_name: str, source: ImageInput) -> StoredExample:
        data, name = self._read(source)
        digest = bytes_hash(data)
        suffix = Path(name).suffix.lower()
        suffix = suffix if suffix in IMAGE_EXTENSIONS else DEFAULT_SUFFIX
        target = self.root / class_name / f"{digest}{suffix}"
        origin = source.name
        if target.is_file():
            return StoredExample(target, digest, len(data), created=False, origin=origin)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
        return StoredExample(target, digest, len(data), created=True, origin=origin)

    def delete(self, paths: list[str]) -> None:
        """Remove example files (only ever inside the examples folder); gone ones are fine."""
        root = self.root.resolve()
        folders = set()
        for path in map(Path, paths):
            if path.resolve().is_relative_to(root):
                path.unlink(missing_ok=True)
                folders.add(path.parent)
        for folder in folders:  # a class folder left empty goes too
            with contextlib.suppress(OSError):
                folder.rmdir()

    def keep_newest(self, class_name: str, keep: int) -> list[Path]:
        """Delete all but the `keep` newest files of a class folder; returns what was deleted."""
        folder = self.root / class_name
        try:
            files = sorted(
                (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                key=lambda p: (p.stat().st_mtime_ns, p.name),
            )
        except FileNotFoundError:
            return []
        doomed = files[: max(0, len(files) - keep)]
        for path in doomed:
            path.unlink(missing_ok=True)
        return doomed

    def _read(self, source: ImageInput) -> tuple[bytes, str]:
        try:
            size = source.size()
            if size > self.max_bytes:
                reason = f"too large: {size} bytes > limit {self.max_bytes}"
                raise ImageError(source.name, reason, TOO_LARGE)
            return source.read(), source.name
        except OSError as exc:
            raise unreadable(source.name, exc).error() from exc


def _size_of(source: ImageInput) -> int:
    try:
        return source.size()
    except OSError:  # reported (and skipped) when it is read
        return 0

"""Generational saves committed by a manifest (atomic writes themselves: app/atomic_files.py).

A generational save writes every data file of generation N+1 under a new name
(`index-000008.bin`), fsyncs it, then atomically replaces `manifest.json` (the commit point) and
only then deletes older generations. A crash at any step leaves the previous manifest and the
files it names untouched, so the previous state stays loadable.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.atomic_files import TMP_SUFFIX, Writer, atomic_write, atomic_write_bytes

try:
    import fcntl
except ImportError:  # Windows: saves still atomic, but concurrent writers are not serialised
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
LOCK_NAME = ".lock"
FORMAT_VERSION = 1
_GENERATION_FILE = re.compile(r"^\.?(?P<stem>[^.]+)-(?P<generation>\d{6,})(\.|$)")


@dataclass(frozen=True)
class Manifest:
    """The committed generation: its number, its data files (logical name -> path) and metadata."""

    generation: int
    files: dict[str, Path]
    meta: dict[str, Any]


class GenerationalFiles:
    """Generational saves of a few named data files inside one directory that this object owns."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.manifest_path = self.directory / MANIFEST_NAME

    def read(self) -> Manifest | None:
        """The committed manifest, or None when nothing was saved yet."""
        try:
            text = self.manifest_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            raw = json.loads(text)
            files = {name: self.directory / fname for name, fname in raw["files"].items()}
            return Manifest(int(raw["generation"]), files, dict(raw["meta"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OSError(f"cannot read {self.manifest_path}: {exc!r}") from exc

    def signature(self) -> tuple[int, int, int] | None:
        """A cheap fingerprint of the committed manifest (one `stat`): it changes with each
        commit, since a commit replaces the file. None when nothing was saved yet."""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold off commits (and their clean-up) of other processes while a reader loads files."""
        if not self.directory.is_dir():
            yield
            return
        with self._flock(shared=True):
            yield

    def commit(self, writers: Mapping[str, Writer], meta: Mapping[str, Any]) -> Manifest:
        """Save a new generation: `writers` maps logical names such as "index.bin" to writers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._flock(shared=False):
            current = self._read_or_none()
            generation = 1 + max(current.generation if current else 0, self._newest_on_disk())
            stems = {_stem(name) for name in [*writers, *(current.files if current else ())]}
            names = {logical: generation_name(logical, generation) for logical in writers}
            for logical, writer in writers.items():
                atomic_write(self.directory / names[logical], writer)
            document = {
                "format": FORMAT_VERSION,
                "generation": generation,
                "files": names,
                "meta": dict(meta),
            }
            payload = json.dumps(document, indent=2, sort_keys=True).encode("utf-8")
            atomic_write_bytes(self.manifest_path, payload)  # the commit point
            self._remove_stale(keep=set(names.values()), stems=stems)
        files = {logical: self.directory / fname for logical, fname in names.items()}
        return Manifest(generation, files, dict(meta))

    def _read_or_none(self) -> Manifest | None:
        """The committed manifest; a damaged one is replaced by the next commit, so None."""
        try:
            return self.read()
        except OSError as exc:
            logger.warning("replacing damaged manifest %s: %s", self.manifest_path, exc)
            return None

    def _newest_on_disk(self) -> int:
        """The highest generation number among files here (never reuse a name still on disk)."""
        found = (_GENERATION_FILE.match(e.name) for e in self.directory.iterdir())
        return max((int(m["generation"]) for m in found if m), default=0)

    @contextmanager
    def _flock(self, shared: bool) -> Iterator[None]:
        """An advisory lock between processes (none where fcntl or the lock file is unavailable)."""
        try:
            handle = open(self.directory / LOCK_NAME, "a+b")  # noqa: SIM115 - closed below
        except OSError:  # e.g. a read-only index folder: reading needs no lock there
            handle = None
        try:
            if handle is not None and fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            yield
        finally:
            if handle is not None:
                handle.close()  # releases the lock

    def bytes_on_disk(self) -> int:
        """Size of the committed generation (manifest included); 0 when nothing was saved."""
        with self.reading():
            manifest = self.read()
            if manifest is None:
                return 0
            paths = [self.manifest_path, *manifest.files.values()]
            return sum(p.stat().st_size for p in paths if p.exists())

    def _remove_stale(self, keep: set[str], stems: set[str]) -> None:
        """Delete other generations of our files and temp files left by interrupted saves."""
        manifest_tmp = f".{MANIFEST_NAME}."
        for entry in self.directory.iterdir():
            name = entry.name
            match = _GENERATION_FILE.match(name)
            ours = bool(match and match["stem"] in stems)
            if name.startswith(manifest_tmp) and name.endswith(TMP_SUFFIX):
                ours = True
            if name in keep or not ours:
                continue
            try:
                entry.unlink()
            except OSError as exc:
                logger.warning("could not delete stale file %s: %s", entry, exc)


def generation_name(logical: str, generation: int) -> str:
    """`index.bin`, 7 -> `index-000007.bin`."""
    stem, dot, suffix = logical.partition(".")
    return f"{stem}-{generation:06d}{dot}{suffix}"


def _stem(logical: str) -> str:
    stem = logical.partition(".")[0]
    if not stem or "-" in stem or "/" in stem:
        raise ValueError(f"bad logical file name {logical!r}: want 'name.ext' without '-' or '/'")
    return stem

"""Use case: bring the index and the repository in line with the catalogue folder.

Incremental: unchanged files (same content hash, same embedding stamp, vector present) are not
re-embedded; deleted files leave the index; changed files are re-embedded. A file whose size and
mtime match the row's is not even read again: its stored content hash stands (see scanning.py;
`--full` re-reads every file). Crash-safe: a row is
stamped with the model only after its vector has been saved, so an interrupted rebuild leaves a
consistent, loadable index and the next run finishes the job.

Many writers: vectors are embedded outside any lock and kept aside; each checkpoint commits them
inside the gallery guard's `writing()` (the writer lock between processes), on the newest saved
index, so class changes made meanwhile by other processes are kept and wait one commit at most.
When a complete index is replaced (`--full`, a new model) the whole new index is committed at the
end, so every reader (this process included, e.g. a REPL whose rebuild is interrupted) serves the
last complete index until then; rows added meanwhile by other writers are carried over.

Rebuild manages the "catalogue" rows only. Examples added at run time ("example" rows) are never
deleted; they are re-embedded when their vector is missing or stale (e.g. after a model change).
Only unstamped example rows without their copy are dropped (vector included): an interrupted
removal, or rows a failed class change could not take back (a full database).
Classes and files removed by the class commands stay out (see `Repository.removals`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from app.domain.errors import NotFound
from app.domain.models import CATALOGUE, ImageRecord, RebuildReport, ScannedFile
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import Embedder
from app.services.progress import ProgressFactory, no_progress
from app.services.rebuild_commits import Commits
from app.services.scanning import scan_catalogue

LAST_REBUILD_KEY = "last_rebuild"


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildOptions:
    products_dir: Path
    checkpoint_seconds: float = 60.0
    examples_dir: Path | None = None  # never scanned as catalogue, even inside products_dir


def _fingerprints(rows: dict[str, ImageRecord]) -> dict[str, ScannedFile]:
    """The catalogue files as last scanned: the scan re-reads only those whose size or mtime
    changed (`--full` re-reads every file)."""
    return {
        path: ScannedFile(path, _parent_name(path), r.content_hash, r.size_bytes, r.mtime_ns)
        for path, r in rows.items()
        if r.mtime_ns is not None
    }


def _parent_name(path: str) -> str:
    return os.path.basename(os.path.dirname(path))  # Path(path).parent.name, 10x cheaper


def _replacing(store: VectorStore, stamp: str, full: bool) -> bool:
    """Whether the index is rebuilt aside and swapped in whole at the end: `--full` or a new
    model, over an index that holds vectors or that did not load (a damaged one: only such a
    rebuild may save over it, and it carries over every row that other writers add meanwhile)."""
    if not full and store.model_stamp == stamp:
        return False
    return len(store) > 0 or store.load_problem is not None


def relative_folder(path: str, root: Path) -> str | None:
    """The folder of `path` relative to the products folder, with forward slashes."""
    try:
        return Path(path).parent.relative_to(root).as_posix()
    except ValueError:
        return None


@dataclass(eq=False)
class RebuildService:
    repository: Repository
    store: VectorStore
    embedder: Embedder
    options: RebuildOptions
    _: KW_ONLY
    progress: ProgressFactory = no_progress
    guard: GalleryGuard = field(default_factory=GalleryGuard)
    # between processes: one rebuild writes an index at a time
    lock: Callable[[], AbstractContextManager[object]] = nullcontext

    def run(self, products_dir: Path | None = None, full: bool = False) -> RebuildReport:
        root = Path(products_dir or self.options.products_dir)
        if not root.is_dir():
            raise NotFound(f"products folder not found: {root}")
        with self.lock():
            return self._run(root, full)

    def _run(self, root: Path, full: bool) -> RebuildReport:
        started = time.perf_counter()
        self.guard.follow()
        stamp = self.embedder.stamp
        replacing = _replacing(self.store, stamp, full)
        commits = Commits(self.repository, self.store, self.guard, self.embedder, replacing)
        indexed = set() if replacing else set(self.store.ids().tolist())
        rows = self.repository.list_images()
        existing = {r.path: r for r in rows if r.source == CATALOGUE}
        found, skipped = scan_catalogue(root, known=None if full else _fingerprints(existing))
        scanned = self._wanted(found, root)
        todo = self._needing_embedding(scanned, existing, stamp, indexed, root)
        report = RebuildReport(scanned=len(found) + len(skipped), skipped=skipped)
        report.excluded = len(found) - len(scanned)
        report.unchanged = len(scanned) - len(todo)
        abandoned = _abandoned_examples(rows)
        dropped = {r.id for r in abandoned}
        todo += self._stale_examples([r for r in rows if r.id not in dropped], stamp, indexed)
        report.embedded = self._embed(todo, report, commits)
        seen = {f.path for f in scanned}
        failed = {s.path for s in report.skipped}
        report.removed = sum(p not in seen for p in existing) + len(abandoned)
        gone = [r for p, r in existing.items() if p not in seen or p in failed]
        commits.finish(gone + abandoned)
        self.repository.set_meta(LAST_REBUILD_KEY, datetime.now(UTC).isoformat(timespec="seconds"))
        report.seconds = time.perf_counter() - started
        report.model_stamp = stamp
        return report

    def _wanted(self, found: list[ScannedFile], root: Path) -> list[ScannedFile]:
        """Scanned files minus what the class commands removed and the examples folder."""
        removals = self.repository.removals()
        wanted = [f for f in found if not removals.excludes(f.path, f.product_id)]
        examples = self.options.examples_dir
        if examples is not None and examples.resolve().is_relative_to(root.resolve()):
            inside = examples.resolve()
            wanted = [f for f in wanted if not Path(f.path).resolve().is_relative_to(inside)]
        return wanted

    def _needing_embedding(
        self,
        scanned: list[ScannedFile],
        existing: dict[str, ImageRecord],
        stamp: str,
        indexed: set[int],
        root: Path,
    ) -> list[ImageRecord]:
        """Rows (unstamped) for the scanned files that are new, changed or without a vector.
        Unchanged rows only get their folder (relative to `root`) and their file's size and
        mtime recorded when these differ."""
        todo, refreshed = [], []
        folders: dict[str, str | None] = {}  # by directory: many files share one
        for f in scanned:
            old = existing.get(f.path)
            directory = os.path.dirname(f.path)
            if directory not in folders:
                folders[directory] = relative_folder(f.path, root)
            folder = folders[directory]
            if (
                old is None
                or old.content_hash != f.content_hash
                or old.embedding_model != stamp
                or old.id not in indexed
            ):
                record = ImageRecord(f.path, f.product_id, f.content_hash, f.size_bytes)
                todo.append(replace(record, folder=folder, mtime_ns=f.mtime_ns))
            elif (old.folder, old.size_bytes, old.mtime_ns) != (folder, f.size_bytes, f.mtime_ns):
                refreshed.append(
                    replace(old, folder=folder, size_bytes=f.size_bytes, mtime_ns=f.mtime_ns)
                )
        if refreshed:
            self.repository.upsert_images(refreshed)
        return todo

    @staticmethod
    def _stale_examples(
        rows: list[ImageRecord], stamp: str, indexed: set[int]
    ) -> list[ImageRecord]:
        """Example rows without a current vector: re-embedded from their stored copy."""
        return [
            replace(r, embedding_model=None)
            for r in rows
            if r.source != CATALOGUE and (r.embedding_model != stamp or r.id not in indexed)
        ]

    def _embed(self, todo: list[ImageRecord], report: RebuildReport, commits: Commits) -> int:
        bar = self.progress(total=len(todo), desc="embedding")
        last_checkpoint = time.monotonic()
        embedded = 0
        try:
            for batch in self.embedder.embed_files(todo, ImageRecord.image):
                report.skipped.extend(batch.skipped)
                if batch.items:
                    # rows written unstamped (a crash re-embeds them), vectors kept aside
                    commits.stage(self.repository.upsert_images(batch.items), batch.vectors)
                    embedded += len(batch.items)
                bar.update(len(batch.items) + len(batch.skipped))
                if time.monotonic() - last_checkpoint > self.options.checkpoint_seconds:
                    commits.checkpoint()
                    last_checkpoint = time.monotonic()
        finally:
            bar.close()
        return embedded


def _abandoned_examples(rows: list[ImageRecord]) -> list[ImageRecord]:
    """Example rows that are unstamped and whose copy is gone: a removal interrupted after it
    deleted the copy (its vector may still be saved: it goes too), or a class change that failed
    when even its undo could not delete its rows (a full database). A change in progress copies
    its files before it writes rows, so it never looks like this."""
    return [
        r
        for r in rows
        if r.source != CATALOGUE and r.embedding_model is None and not Path(r.path).exists()
    ]

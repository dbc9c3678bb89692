"""Use case: bring the index and the repository in line with the catalogue folder.

Incremental: unchanged files (same content hash, same embedding stamp, vector present) are not
re-embedded; deleted files leave the index; changed files are re-embedded. Crash-safe: a row is
stamped with the model only after its vector has been saved, so an interrupted rebuild leaves a
consistent, loadable index and the next run finishes the job. When a complete index is being
replaced (`--full`, a new model) nothing is saved before the end, so readers that start meanwhile
load the last complete index, never a half-built one.

Rebuild manages the "catalogue" rows only. Examples added at run time ("example" rows) are never
deleted; they are re-embedded when their vector is missing or stale (e.g. after a model change).
Classes and files removed by the class commands stay out (see `Repository.removals`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.domain.errors import NotFound
from app.domain.models import CATALOGUE, ImageRecord, RebuildReport, ScannedFile, VectorPayload
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import Embedder
from app.services.progress import ProgressFactory, no_progress
from app.services.scanning import scan_catalogue

LAST_REBUILD_KEY = "last_rebuild"


logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildOptions:
    products_dir: Path
    checkpoint_seconds: float = 60.0
    examples_dir: Path | None = None  # never scanned as catalogue, even inside products_dir


def relative_folder(path: str, root: Path) -> str | None:
    """The folder of `path` relative to the products folder, with forward slashes."""
    try:
        return Path(path).parent.relative_to(root).as_posix()
    except ValueError:
        return None


class RebuildService:
    def __init__(
        self,
        repository: Repository,
        store: VectorStore,
        embedder: Embedder,
        options: RebuildOptions,
        *,
        progress: ProgressFactory = no_progress,
        guard: GalleryGuard | None = None,
        lock: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> None:
        self._repo = repository
        self._store = store
        self._embedder = embedder
        self._options = options
        self._progress = progress
        self._guard = guard or GalleryGuard()
        self._replacing = False
        self._lock = lock  # between processes: one rebuild writes an index at a time

    def run(self, products_dir: Path | None = None, full: bool = False) -> RebuildReport:
        root = Path(products_dir or self._options.products_dir)
        if not root.is_dir():
            raise NotFound(f"products folder not found: {root}")
        with self._lock(), self._guard.writing():
            try:
                return self._run(root, full)
            except BaseException:
                self._restore_saved()
                raise

    def _restore_saved(self) -> None:
        """After a failed run (a full disk, a database gone), searches keep the last saved
        index rather than the half-built one in memory."""
        try:
            if not self._store.load():
                self._store.reset(self._store.model_stamp or self._embedder.stamp)
        except Exception as exc:  # the original error is the one to report
            logger.warning("could not reload the saved index after a failed rebuild: %s", exc)

    def _run(self, root: Path, full: bool) -> RebuildReport:
        started = time.perf_counter()
        stamp = self._embedder.stamp
        unsaved = full or self._store.model_stamp != stamp
        # replacing a complete index: no checkpoints, so the saved one stays whole until the end
        self._replacing = unsaved and len(self._store) > 0
        if unsaved:
            self._store.reset(stamp)
        found, skipped = scan_catalogue(root)
        scanned = self._wanted(found, root)
        rows = self._repo.list_images()
        unsaved |= self._drop_dangling_vectors(rows)
        existing = {r.path: r for r in rows if r.source == CATALOGUE}
        todo = self._needing_embedding(scanned, existing, stamp, root)
        report = RebuildReport(scanned=len(found) + len(skipped), skipped=skipped)
        report.excluded = len(found) - len(scanned)
        report.unchanged = len(scanned) - len(todo)
        todo += self._stale_examples(rows, stamp)
        report.embedded = self._embed(todo, report)
        seen = {f.path for f in scanned}
        failed = {s.path for s in report.skipped}
        report.removed = sum(p not in seen for p in existing)
        self._remove([r for p, r in existing.items() if p not in seen or p in failed])
        if unsaved:
            self._store.save()
        self._repo.set_meta(LAST_REBUILD_KEY, datetime.now(UTC).isoformat(timespec="seconds"))
        report.seconds = time.perf_counter() - started
        report.model_stamp = stamp
        return report

    def _wanted(self, found: list[ScannedFile], root: Path) -> list[ScannedFile]:
        """Scanned files minus what the class commands removed and the examples folder."""
        removals = self._repo.removals()
        wanted = [f for f in found if not removals.excludes(f.path, f.product_id)]
        examples = self._options.examples_dir
        if examples is not None and examples.resolve().is_relative_to(root.resolve()):
            inside = examples.resolve()
            wanted = [f for f in wanted if not Path(f.path).resolve().is_relative_to(inside)]
        return wanted

    def _drop_dangling_vectors(self, rows: list[ImageRecord]) -> bool:
        """Vectors whose row is gone (a crash between index save and row delete) are dropped."""
        known = np.array([r.id for r in rows], dtype=np.int64)
        dangling = np.setdiff1d(self._store.ids(), known)
        if dangling.size:
            self._store.remove(dangling)
        return bool(dangling.size)

    def _needing_embedding(
        self, scanned: list[ScannedFile], existing: dict[str, ImageRecord], stamp: str, root: Path
    ) -> list[ImageRecord]:
        """Rows (unstamped) for the scanned files that are new, changed or without a vector.
        Unchanged rows only get their folder (relative to `root`) recorded when it differs."""
        indexed = set(self._store.ids().tolist())
        todo, moved = [], []
        for f in scanned:
            old = existing.get(f.path)
            folder = relative_folder(f.path, root)
            if (
                old is None
                or old.content_hash != f.content_hash
                or old.embedding_model != stamp
                or old.id not in indexed
            ):
                record = ImageRecord(f.path, f.product_id, f.content_hash, f.size_bytes)
                todo.append(replace(record, folder=folder))
            elif old.folder != folder:
                moved.append(replace(old, folder=folder))
        if moved:
            self._repo.upsert_images(moved)
        return todo

    def _stale_examples(self, rows: list[ImageRecord], stamp: str) -> list[ImageRecord]:
        """Example rows without a current vector: re-embedded from their stored copy."""
        indexed = set(self._store.ids().tolist())
        return [
            replace(r, embedding_model=None)
            for r in rows
            if r.source != CATALOGUE and (r.embedding_model != stamp or r.id not in indexed)
        ]

    def _embed(self, todo: list[ImageRecord], report: RebuildReport) -> int:
        bar = self._progress(total=len(todo), desc="embedding")
        pending: list[ImageRecord] = []
        last_checkpoint = time.monotonic()
        embedded = 0
        try:
            for batch in self._embedder.embed_files(todo, lambda f: Path(f.path)):
                report.skipped.extend(batch.skipped)
                if batch.items:
                    pending += self._stage(batch.items, batch.vectors)
                    embedded += len(batch.items)
                bar.update(len(batch.items) + len(batch.skipped))
                due = time.monotonic() - last_checkpoint > self._options.checkpoint_seconds
                if due and not self._replacing:
                    self._commit(pending)
                    pending, last_checkpoint = [], time.monotonic()
            self._commit(pending)
        finally:
            bar.close()
        return embedded

    def _stage(self, records: list[ImageRecord], vectors: np.ndarray) -> list[ImageRecord]:
        """Write rows unstamped (so a crash re-embeds them) and put their vectors in the store."""
        rows = self._repo.upsert_images(records)
        ids = np.array([r.id for r in rows], dtype=np.int64)
        self._store.add(ids, vectors, [VectorPayload(product_id=r.product_id) for r in rows])
        return rows

    def _commit(self, rows: list[ImageRecord]) -> None:
        """Save the index, then stamp the rows whose vectors it now holds."""
        if not rows:
            return
        self._store.save()
        stamp = self._store.model_stamp
        self._repo.upsert_images([replace(r, embedding_model=stamp) for r in rows])

    def _remove(self, records: list[ImageRecord]) -> None:
        """Deleted files, and files that no longer decode, leave the index, then the repository."""
        if not records:
            return
        ids = np.array([r.id for r in records], dtype=np.int64)
        self._store.remove(ids)
        self._store.save()
        self._repo.delete_images(ids.tolist())

"""Use case: bring the index and the repository in line with the catalogue folder.

Incremental: unchanged files (same content hash, same embedding stamp, vector present) are not
re-embedded; deleted files leave the index; changed files are re-embedded. Crash-safe: a row is
stamped with the model only after its vector has been saved, so an interrupted rebuild leaves a
consistent, loadable index and the next run finishes the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.domain.errors import NotFound
from app.domain.models import ImageRecord, RebuildReport, ScannedFile, VectorPayload
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.pipeline import Embedder
from app.services.progress import ProgressFactory, no_progress
from app.services.scanning import scan_catalogue

LAST_REBUILD_KEY = "last_rebuild"


@dataclass(frozen=True)
class RebuildOptions:
    products_dir: Path
    checkpoint_seconds: float = 60.0


class RebuildService:
    def __init__(
        self,
        repository: Repository,
        store: VectorStore,
        embedder: Embedder,
        options: RebuildOptions,
        progress: ProgressFactory = no_progress,
    ) -> None:
        self._repo = repository
        self._store = store
        self._embedder = embedder
        self._options = options
        self._progress = progress

    def run(self, products_dir: Path | None = None, full: bool = False) -> RebuildReport:
        root = Path(products_dir or self._options.products_dir)
        if not root.is_dir():
            raise NotFound(f"products folder not found: {root}")
        started = time.perf_counter()
        stamp = self._embedder.stamp
        unsaved = full or self._store.model_stamp != stamp
        if unsaved:
            self._store.reset(stamp)
        scanned, skipped = scan_catalogue(root)
        existing = {r.path: r for r in self._repo.list_images()}
        unsaved |= self._drop_dangling_vectors(existing)
        todo = self._needing_embedding(scanned, existing, stamp)
        report = RebuildReport(scanned=len(scanned) + len(skipped), skipped=skipped)
        report.unchanged = len(scanned) - len(todo)
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

    def _drop_dangling_vectors(self, existing: dict[str, ImageRecord]) -> bool:
        """Vectors whose row is gone (a crash between index save and row delete) are dropped."""
        known = np.array([r.id for r in existing.values()], dtype=np.int64)
        dangling = np.setdiff1d(self._store.ids(), known)
        if dangling.size:
            self._store.remove(dangling)
        return bool(dangling.size)

    def _needing_embedding(
        self, scanned: list[ScannedFile], existing: dict[str, ImageRecord], stamp: str
    ) -> list[ScannedFile]:
        indexed = set(self._store.ids().tolist())
        todo = []
        for f in scanned:
            old = existing.get(f.path)
            if (
                old is None
                or old.content_hash != f.content_hash
                or old.embedding_model != stamp
                or old.id not in indexed
            ):
                todo.append(f)
        return todo

    def _embed(self, todo: list[ScannedFile], report: RebuildReport) -> int:
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
                if time.monotonic() - last_checkpoint > self._options.checkpoint_seconds:
                    self._commit(pending)
                    pending, last_checkpoint = [], time.monotonic()
            self._commit(pending)
        finally:
            bar.close()
        return embedded

    def _stage(self, files: list[ScannedFile], vectors: np.ndarray) -> list[ImageRecord]:
        """Write rows unstamped (so a crash re-embeds them) and put their vectors in the store."""
        rows = self._repo.upsert_images(
            [ImageRecord(f.path, f.product_id, f.content_hash, f.size_bytes) for f in files]
        )
        ids = np.array([r.id for r in rows], dtype=np.int64)
        self._store.add(ids, vectors, [VectorPayload(product_id=r.product_id) for r in rows])
        return rows

    def _commit(self, rows: list[ImageRecord]) -> None:
        """Save the index, then stamp the rows whose vectors it now holds."""
        if not rows:
            return
        self._store.save()
        stamp = self._store.model_stamp
        self._repo.upsert_images(
            [
                ImageRecord(r.path, r.product_id, r.content_hash, r.size_bytes, stamp, r.id)
                for r in rows
            ]
        )

    def _remove(self, records: list[ImageRecord]) -> None:
        """Deleted files, and files that no longer decode, leave the index, then the repository."""
        if not records:
            return
        ids = np.array([r.id for r in records], dtype=np.int64)
        self._store.remove(ids)
        self._store.save()
        self._repo.delete_images(ids.tolist())

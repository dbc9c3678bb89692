"""The crash-safe order of a gallery change's writes (the use cases are in gallery.py).

New rows are written unstamped, the vector store is saved atomically (additions and removals in
one save), then new rows are stamped and removed rows deleted. Removal marks are written first,
so a crash can never let `rebuild` bring back what was removed. A failure before the save is
undone (gallery_undo.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from app.domain.models import CATALOGUE, EXAMPLE, ImageRecord, StoredExample, VectorPayload
from app.interfaces.examples import ExampleStore
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_undo import GalleryUndo


@dataclass(frozen=True)
class GalleryWrites:
    repository: Repository
    store: VectorStore
    files: ExampleStore

    def undo_for(self, stored: list[StoredExample]) -> GalleryUndo:
        """What to take back on failure: the copies this change created, and what it writes."""
        created = [s.path for s in stored if s.created]
        return GalleryUndo(self.repository, self.store, self.files, created)

    def stage(
        self,
        class_name: str,
        stored: list[StoredExample],
        vectors: np.ndarray,
        source: str = EXAMPLE,
    ) -> list[ImageRecord]:
        """Rows written unstamped (a crash leaves them for `rebuild` to embed), vectors added."""
        rows = self.repository.upsert_images(
            [
                ImageRecord(str(s.path), class_name, s.content_hash, s.size_bytes, source=source)
                for s in stored
            ]
        )
        self.add_vectors(rows, vectors)
        return list({r.id: r for r in rows}.values())

    def add_vectors(self, rows: list[ImageRecord], vectors: np.ndarray) -> None:
        ids = np.array([r.id for r in rows], dtype=np.int64)
        self.store.add(ids, vectors, [VectorPayload(product_id=r.product_id) for r in rows])

    def commit(
        self, added: list[ImageRecord], doomed: list[ImageRecord], undo: GalleryUndo
    ) -> None:
        """Save the vectors (additions and removals at once), then stamp and delete rows."""
        undo.remove_vectors(doomed)
        self.store.save()
        undo.saved = True
        stamp = self.store.model_stamp
        self.repository.upsert_images([replace(r, embedding_model=stamp) for r in added])
        self._delete_rows(doomed, keep_files={r.path for r in added})

    def remove(self, rows: list[ImageRecord]) -> None:
        """Vectors removed and saved first, then rows and copied files deleted."""
        self.store.remove(np.array([r.id for r in rows], dtype=np.int64))
        self.store.save()
        self._delete_rows(rows, keep_files=set())

    def _delete_rows(self, rows: list[ImageRecord], keep_files: set[str]) -> None:
        self.repository.delete_images([r.id for r in rows])
        self.files.delete(
            [r.path for r in rows if r.source != CATALOGUE and r.path not in keep_files]
        )

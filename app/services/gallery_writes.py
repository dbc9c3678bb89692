"""The crash-safe order of a gallery change's writes (the use cases are in gallery.py).

A row is stamped as embedded only while its vector is in the saved index, and a vector is saved
only for a row that exists, at every point a process can be killed. Additions: rows are written
unstamped, the vector store is saved (the commit point: a failure before it is undone, see
gallery_undo.py), then the rows are stamped. Removals (the replaced examples of
`class update --replace`, `class remove`, `examples remove`) come after the additions, so the
class keeps stamped examples throughout: rows are unstamped, their copied files deleted, the
vectors removed and saved, then the rows deleted. `rebuild` finishes an interrupted removal: an
unstamped example row whose copy is gone is dropped (vector included), and catalogue photos
stay out through their removal marks, written first.
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
        """Save the additions and stamp their rows, then remove `doomed` (see `remove`)."""
        self.store.save()
        undo.saved = True
        stamp = self.store.model_stamp
        self.repository.upsert_images([replace(r, embedding_model=stamp) for r in added])
        self._retire(doomed, keep_files={r.path for r in added})

    def remove(self, rows: list[ImageRecord]) -> None:
        """Rows unstamped, copied files deleted, vectors removed and saved, rows deleted."""
        self._retire(rows, keep_files=set())

    def _retire(self, rows: list[ImageRecord], keep_files: set[str]) -> None:
        if not rows:
            return
        ids = [r.id for r in rows]
        self.repository.unstamp_images(ids)  # they keep their vectors until the save
        self.files.delete(
            [r.path for r in rows if r.source != CATALOGUE and r.path not in keep_files]
        )  # from here on, `rebuild` drops them instead of re-embedding them
        self.store.remove(np.array(ids, dtype=np.int64))
        self.store.save()
        self.repository.delete_images(ids)

"""How a rebuild commits its vectors when other processes write the same gallery.

Embedded vectors are kept aside (`stage`) and committed inside the gallery guard's `writing()`,
which holds the writer lock between processes and has loaded the newest saved index: a
checkpoint adds what is staged to that index, saves it, then stamps the rows. Rows that another
writer removed meanwhile are left out. When a complete index is replaced (`--full`, a new model),
nothing is committed before `finish`, which starts the index afresh from everything staged plus
the rows other writers added meanwhile (their vectors copied when made by this model, else
embedded now), so the last complete index serves until then.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from app.domain.errors import ModelMismatch
from app.domain.models import ImageRecord, VectorPayload
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import Embedder

Staged = tuple[list[ImageRecord], list[np.ndarray]]


@dataclass(eq=False)
class Commits:
    repository: Repository
    store: VectorStore
    guard: GalleryGuard
    embedder: Embedder
    replacing: bool
    _rows: list[ImageRecord] = field(default_factory=list, init=False)
    _vectors: list[np.ndarray] = field(default_factory=list, init=False)
    _stamp: str = field(init=False)

    def __post_init__(self) -> None:
        self._stamp = self.embedder.stamp

    def stage(self, rows: list[ImageRecord], vectors: np.ndarray) -> None:
        self._rows += rows
        self._vectors.append(vectors)

    def checkpoint(self) -> None:
        """Commit what is staged (not while a complete index is being replaced)."""
        if self.replacing or not self._rows:
            return
        with self.guard.writing():
            self._save(self._take(), [])

    def finish(self, gone: list[ImageRecord]) -> None:
        """The last commit: what is staged, minus `gone` (deleted or unreadable files)."""
        with self.guard.writing(replacing=self.replacing):
            staged = self._take()
            if self.replacing:
                staged = self._with_late_rows(staged, {r.id for r in gone})
            self._save(staged, gone, final=True)

    def _take(self) -> Staged:
        staged = (self._rows, self._vectors)
        self._rows, self._vectors = [], []
        return staged

    def _save(self, staged: Staged, gone: list[ImageRecord], final: bool = False) -> None:
        rows, vectors = self._still_there(staged)
        ids = np.array([r.id for r in rows], dtype=np.int64)
        payloads = [VectorPayload(product_id=r.product_id) for r in rows]
        if self.replacing:  # searches meanwhile wait, then see the whole new index
            self.store.replace_all(self._stamp, ids, vectors, payloads)
        adopted = self._adopt()
        if rows and not self.replacing:
            self.store.add(ids, vectors, payloads)
        doomed = np.array([r.id for r in gone], dtype=np.int64)
        if final:  # vectors whose row is gone (a crash between index save and row delete)
            known = np.array(self.repository.image_ids(), dtype=np.int64)
            doomed = np.union1d(doomed, np.setdiff1d(self.store.ids(), known))
        if gone:  # a row is stamped only while its vector is saved: unstamped before it goes
            self.repository.unstamp_images([r.id for r in gone])
        self.store.remove(doomed)
        if rows or doomed.size or adopted or self.replacing:
            self.store.save()
        self.repository.upsert_images([replace(r, embedding_model=self._stamp) for r in rows])
        self.repository.delete_images([r.id for r in gone])

    def _still_there(self, staged: Staged) -> tuple[list[ImageRecord], np.ndarray]:
        """Staged rows that no other writer removed meanwhile, and their vectors."""
        rows, parts = staged
        if not rows:
            return [], np.empty((0, 1), dtype=np.float32)
        vectors = np.concatenate(parts)
        current = self.repository.get_images([r.id for r in rows])
        keep = [i for i, r in enumerate(rows) if r.id in current and current[r.id].path == r.path]
        return [rows[i] for i in keep], vectors[keep]

    def _adopt(self) -> bool:
        """An empty index takes this model; another model's vectors cannot be mixed in."""
        if self.store.model_stamp == self._stamp:
            return False
        if len(self.store):
            raise ModelMismatch(
                f"the index was rebuilt with {self.store.model_stamp} by another process "
                f"meanwhile, this rebuild embeds with {self._stamp}: run `rebuild --full`"
            )
        self.store.reset(self._stamp)
        return True

    def _with_late_rows(self, staged: Staged, gone: set[int]) -> Staged:
        """Add the rows that other writers created while the new index was being built."""
        rows, parts = staged
        have = {r.id for r in rows} | gone
        late = [r for r in self.repository.list_images() if r.id not in have]
        held = set(self.store.ids().tolist()) if self.store.model_stamp == self._stamp else set()
        copied = [r for r in late if r.id in held]
        if copied:
            rows = [*rows, *copied]
            parts = [*parts, self.store.vectors(np.array([r.id for r in copied], np.int64))]
        rest = [r for r in late if r.id not in held]
        for batch in self.embedder.embed_files(rest, ImageRecord.image):
            if batch.items:
                rows = [*rows, *batch.items]
                parts = [*parts, batch.vectors]
        return rows, parts

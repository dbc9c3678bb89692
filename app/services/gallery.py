"""Use case: manage the gallery's classes live, with no retraining and no restart.

Add a class from images, append to or replace the examples of a class, remove a class, remove
examples by id, list what is there. Example images are copied into the examples folder; rows
("example" source) and vectors persist and survive a restart.
Writes are ordered for crash safety, like `rebuild` (gallery_writes.py). All of it happens inside
the gallery guard, so predictions see the gallery before or after the change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from app.domain.errors import (
    Conflict,
    ModelMismatch,
    NotFound,
)
from app.domain.gallery import (
    ClassInfo,
    GalleryChange,
    GalleryInfo,
    existing_class,
    listed_ids,
    live_rows,
    no_usable_image,
    normalise_name,
    unknown_class,
    validate_class_name,
    validate_example_ids,
)
from app.domain.images import ImageInput
from app.domain.models import (
    CATALOGUE,
    CROP,
    EXAMPLE,
    UPLOAD,
    UPLOADS,
    Crop,
    ImageRecord,
    SkippedFile,
    StoredExample,
)
from app.interfaces.examples import ExampleStore
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.calibration_store import read_calibrations
from app.services.gallery_guard import GalleryGuard
from app.services.gallery_undo import GalleryUndo
from app.services.gallery_writes import GalleryWrites
from app.services.pipeline import Embedder
from app.services.scanning import expand_images


@dataclass(eq=False)
class GalleryService:
    repository: Repository
    store: VectorStore
    embedder: Embedder
    guard: GalleryGuard
    files: ExampleStore
    _writes: GalleryWrites = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._writes = GalleryWrites(self.repository, self.store, self.files)

    def add_class(self, class_name: str, sources: Iterable[ImageInput]) -> GalleryChange:
        """A new class from images (files, folders or uploads). Clears an earlier removal."""
        return self._put(class_name, list(sources), mode="add")

    def update_class(
        self, class_name: str, sources: Iterable[ImageInput], replace_all: bool = False
    ) -> GalleryChange:
        """Append examples to a class, or with `replace_all` make them its only examples (its
        catalogue photos are then left out of later rebuilds too)."""
        return self._put(class_name, list(sources), mode="replace" if replace_all else "append")

    def add_or_append(self, class_name: str, sources: Iterable[ImageInput]) -> GalleryChange:
        """Examples of a class, which is created when it does not exist yet."""
        sources = list(sources)
        try:
            return self.add_class(class_name, sources)
        except Conflict:
            return self.update_class(class_name, sources)

    def upload(self, sources: Iterable[ImageInput]) -> GalleryChange:
        """Photos to search for and among, which are no class: searchable and segmentable, never
        an example of classification by retrieval (under the product id "uploads")."""
        self._check_model()
        stored, vectors, skipped = self._embed(UPLOADS, list(sources))
        undo = self._undo(stored)
        with undo.locked(self.guard.writing()):
            self._check_model(adopt=True)
            existing = {r.id for r in self.repository.list_images(UPLOADS)}
            added = self._writes.stage(UPLOADS, stored, vectors, source=UPLOAD)
            undo.rows_written(added, existing=existing)
            self._writes.commit(added, [], undo)
        return GalleryChange(UPLOADS, added=added, skipped=skipped)

    def remove_class(self, class_name: str) -> GalleryChange:
        """Remove every example of a class; `rebuild` will not bring its photos back."""
        class_name = normalise_name(class_name)
        with self.guard.writing():
            rows = self.repository.list_images(class_name)
            if not rows:
                raise self._unknown_class(class_name)
            self.repository.mark_class_removed(class_name)
            self._writes.remove(rows)
        return GalleryChange(class_name, removed=rows)

    def remove_examples(self, ids: Iterable[int]) -> list[ImageRecord]:
        """Remove examples by image id (catalogue photos stay out of later rebuilds)."""
        wanted = validate_example_ids(ids)
        with self.guard.writing():
            found = self.repository.get_images(wanted)
            missing = [i for i in wanted if i not in found]
            if missing:
                raise NotFound(f"no example with id {listed_ids(missing)}")
            rows = [found[i] for i in wanted]
            self.repository.mark_images_removed([r for r in rows if r.source == CATALOGUE])
            self._writes.remove(rows)
        return rows

    def add_crops(self, parent: ImageRecord, crops: list[Crop]) -> list[ImageRecord]:
        """Object crops of a gallery image become examples of its class, each row knowing its
        parent image and box (files copied like examples; searchable and classifiable)."""
        if not crops:
            return []
        self._check_model()
        box_of = {c.image.digest: c.box for c in crops}
        stored, vectors, _ = self._embed(parent.product_id, [c.image for c in crops])
        records = [
            ImageRecord(
                str(s.path), parent.product_id, s.content_hash, s.size_bytes,
                source=UPLOAD if parent.source == UPLOAD else CROP,
                parent_id=parent.id, box=box_of[s.content_hash],
            )
            for s in stored
        ]  # fmt: skip
        undo = self._undo(stored)
        with undo.locked(self.guard.writing()):
            self._check_model(adopt=True)
            rows = self.repository.upsert_images(records)
            undo.rows_written(rows, existing=set())
            self._writes.add_vectors(rows, vectors)
            self._writes.commit(rows, [], undo)
        return rows

    # ---- queries -----------------------------------------------------------------------------

    def info(self) -> GalleryInfo:
        self.guard.follow()
        counts = self.repository.source_counts()
        stamp = self.store.model_stamp
        return GalleryInfo(
            classes=[
                ClassInfo(name, by.get(CATALOGUE, 0), by.get(EXAMPLE, 0))
                for name, by in counts.items()
                if set(by) != {UPLOAD}  # uploads alone make no class
            ],
            size=len(self.store),
            model_stamp=stamp,
            current_model=self.embedder.stamp,
            calibration=list(read_calibrations(self.repository, stamp).values()),
        )

    def example_ids(self) -> dict[str, list[int]]:
        """Every example's id (catalogue photos, added examples, crops; not uploads, which are
        no class), by class, in id order. Ids are stable: removing one never renumbers others."""
        ids: dict[str, list[int]] = {}
        for row in self.repository.list_images():
            if row.source != UPLOAD:
                ids.setdefault(row.product_id, []).append(row.id)
        return ids

    def examples(self, class_name: str) -> list[ImageRecord]:
        class_name = normalise_name(class_name)
        rows = self.repository.list_images(class_name)
        if not rows:
            raise self._unknown_class(class_name)
        return rows

    # ---- steps -------------------------------------------------------------------------------

    def _put(self, class_name: str, sources: list[ImageInput], mode: str) -> GalleryChange:
        class_name = validate_class_name(class_name)
        self._check_model()
        if mode == "add" and live_rows(self.repository.list_images(class_name)):
            raise existing_class(class_name)
        stored, vectors, skipped = self._embed(class_name, sources)
        undo = self._undo(stored)
        with undo.locked(self.guard.writing()):
            existing = self.repository.list_images(class_name)
            if mode == "add" and live_rows(existing):
                raise existing_class(class_name)
            if mode != "add" and not existing:
                raise self._unknown_class(class_name)
            self._check_model(adopt=True)
            undo.marks_changing(class_name)
            if mode == "add":
                self.repository.clear_removals(class_name)
            added = self._writes.stage(class_name, stored, vectors)
            undo.rows_written(added, existing={r.id for r in existing})
            kept = {r.id for r in added}
            doomed = [r for r in existing if r.id not in kept] if mode == "replace" else []
            self.repository.mark_images_removed([r for r in doomed if r.source == CATALOGUE])
            self._writes.commit(added, doomed, undo)
        before = {r.id for r in existing}
        return GalleryChange(
            class_name,
            added=[r for r in added if r.id not in before],
            removed=doomed,
            skipped=skipped,
            already_present=[r for r in added if r.id in before],
        )

    def _check_model(self, adopt: bool = False) -> None:
        """A gallery of another model's vectors cannot take this model's; an empty one can
        (with `adopt`, it is reset for the current model)."""
        stamp = self.embedder.stamp
        if self.store.model_stamp == stamp:
            return
        if len(self.store):
            raise ModelMismatch(
                f"index built with {self.store.model_stamp}, current model is {stamp}: "
                "run `rebuild`"
            )
        if adopt:
            self.store.reset(stamp)

    def _embed(
        self, class_name: str, sources: list[ImageInput]
    ) -> tuple[list[StoredExample], np.ndarray, list[SkippedFile]]:
        """Copy the images into the examples folder and embed the copies."""
        stored, skipped = self.files.store_all(class_name, expand_images(sources))
        copies = {ImageInput.file(s.path, s.content_hash): s for s in stored}
        with self._undo(stored).guarding():  # a failed embedding keeps no copies
            batch = self.embedder.embed_all(list(copies))
        good = {image.path for image in batch.items}
        self.files.delete([str(s.path) for s in stored if s.created and s.path not in good])
        origin = {str(s.path): s.origin for s in stored}
        skipped += [replace(f, path=origin[f.path]) for f in batch.skipped]
        if not batch.items:
            raise no_usable_image(class_name, skipped)
        return [copies[image] for image in batch.items], batch.vectors, skipped

    def _undo(self, stored: list[StoredExample]) -> GalleryUndo:
        return self._writes.undo_for(stored)

    def _unknown_class(self, class_name: str) -> NotFound:
        return unknown_class(class_name, sorted(self.repository.product_counts()))

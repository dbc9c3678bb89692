"""All or nothing for a gallery change: what a change has done so far, and how to take it back.

A change copies example files, writes rows, adds vectors, then saves the vector store: the save
is the commit point. When anything before or during the save fails (a full disk, a database that
went away), `undo` takes every step back: the vectors in memory, the new rows and the copied
files, so a retry starts from where the user was. What a change removes is removed only after
the save (gallery_writes.py), so there is nothing of it to take back. After the save nothing is
undone: the change is durable and `rebuild` finishes what is left. The removal
marks of the class (cleared by `class add`, written for replaced catalogue photos) are put back
as they were, so `rebuild` keeps leaving out exactly what it left out before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.domain.gallery import Removals
from app.domain.models import ImageRecord
from app.interfaces.examples import ExampleStore
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore

logger = logging.getLogger(__name__)


@dataclass
class GalleryUndo:
    repository: Repository
    store: VectorStore
    files: ExampleStore
    created_files: list[Path] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)
    marks: tuple[str, Removals] | None = None  # a class, and its removal marks before the change
    saved: bool = False

    @contextmanager
    def locked(self, writing: AbstractContextManager[object]) -> Iterator[GalleryUndo]:
        """`guarding` inside `writing` (the gallery guard's): when the writer lock cannot be had
        or the newest index does not load, the example copies made before are deleted again."""
        with ExitStack() as stack:
            try:
                stack.enter_context(writing)
            except BaseException:
                self._step("files", self._delete_copies)
                raise
            with self.guarding():
                yield self

    @contextmanager
    def guarding(self) -> Iterator[GalleryUndo]:
        """Undo everything recorded when the block fails before the save."""
        try:
            yield self
        except BaseException:
            if not self.saved:
                self.undo()
            raise

    def rows_written(self, rows: list[ImageRecord], existing: set[int]) -> None:
        self.new_ids += [r.id for r in rows if r.id is not None and r.id not in existing]

    def marks_changing(self, class_name: str) -> None:
        """Called before the removal marks of `class_name` change: keep them to put back."""
        if self.marks is None:
            self.marks = (class_name, self.repository.removals(class_name))

    def undo(self) -> None:
        """Each step is tried on its own (one failing must not stop the others) and logged."""
        steps = [  # files first: deleting them frees the room the database may need
            ("files", self._delete_copies),
            ("vectors", self._undo_vectors),
            ("rows", lambda: self.repository.delete_images(self.new_ids)),
            ("removal marks", self._undo_marks),
        ]
        for what, step in steps:
            self._step(what, step)

    @staticmethod
    def _step(what: str, step: Callable[[], object]) -> None:
        try:
            step()
        except Exception as exc:  # undo is best effort; the original error is re-raised
            logger.warning("could not take back the %s of a failed change: %s", what, exc)

    def _delete_copies(self) -> None:
        self.files.delete([str(p) for p in self.created_files])

    def _undo_vectors(self) -> None:
        self.store.remove(np.array(self.new_ids, dtype=np.int64))

    def _undo_marks(self) -> None:
        if self.marks is None:
            return
        class_name, before = self.marks
        if self.repository.removals(class_name) == before:
            return
        self.repository.clear_removals(class_name)
        if class_name in before.classes:
            self.repository.mark_class_removed(class_name)
        self.repository.mark_images_removed(
            [ImageRecord(path, class_name, "", 0) for path in sorted(before.paths)]
        )

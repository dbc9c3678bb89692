"""Use case: move the catalogue to other back ends without re-embedding.

Copies the vectors of the configured store (with their model stamp, and product payloads from the
repository) into another store, and/or the image rows and facts of the configured database into
another one, keeping the image ids that the vectors are keyed by (with the gallery removals).
Counts and a sample of vectors are verified after the target is reloaded. Nothing is ever written
to the source.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TypeVar

import numpy as np

from app.domain.errors import ConfigError, IndexNotReady, VerificationFailed
from app.domain.gallery import Removals
from app.domain.models import ImageRecord, MigrationReport, VectorPayload
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.progress import ProgressFactory, no_progress

VECTOR_CHUNK = 1_000
ROW_CHUNK = 5_000
SAMPLE = 200  # vectors compared one by one after the copy
T = TypeVar("T")


@dataclass(frozen=True)
class MigrationTarget:
    """Where to copy to: a vector store, a repository, or both (None: not moved)."""

    store: VectorStore | None = None
    repository: Repository | None = None


# settings to change (e.g. {"vector_store": "qdrant"}) -> the back ends they select
TargetOpener = Callable[[Mapping[str, str]], MigrationTarget]


def _folder_class(path: str) -> str:
    """The class of a removed catalogue file: the folder that holds it (as when scanned)."""
    return PurePath(path).parent.name


def _removal_classes(removals: Removals) -> set[str]:
    return set(removals.classes) | {_folder_class(p) for p in removals.paths}


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(eq=False)
class MigrateService:
    repository: Repository
    store: VectorStore
    open_target: TargetOpener
    progress: ProgressFactory = no_progress
    # the writer lock: no change while copying
    guard: GalleryGuard = field(default_factory=GalleryGuard)

    def run(self, changes: Mapping[str, str], overwrite: bool = False) -> MigrationReport:
        """Copy to the back ends that `changes` (setting name -> value) select; `overwrite`
        allows replacing what a target already holds."""
        with self.guard.writing():
            return self._run(changes, overwrite)

    def _run(self, changes: Mapping[str, str], overwrite: bool) -> MigrationReport:
        started = time.perf_counter()
        target = self.open_target(changes)
        if target.store is None and target.repository is None:
            raise ConfigError("nothing to migrate: name a vector store and/or a database URL")
        report = MigrationReport()
        if target.repository is not None:
            report.images, report.facts = self._copy_rows(target.repository, overwrite)
        if target.store is not None:
            report.vectors = self._copy_vectors(target.store, overwrite)
            report.model_stamp = target.store.model_stamp
            report.target_index = target.store.info()
        report.seconds = time.perf_counter() - started
        return report

    # ---- rows --------------------------------------------------------------------------------

    def _copy_rows(self, target: Repository, overwrite: bool) -> tuple[int, int]:
        held = target.count_images()
        if held and not overwrite:
            raise ConfigError(
                f"the target database already holds {held} images: pass --overwrite to replace them"
            )
        if held:
            target.delete_images([r.id for r in target.list_images() if r.id is not None])
        if overwrite:
            for name in _removal_classes(target.removals()):
                target.clear_removals(name)
        records = self.repository.list_images()
        bar = self.progress(total=len(records), desc="copying rows")
        try:
            for chunk in chunks(records, ROW_CHUNK):
                target.restore_images(list(chunk))
                bar.update(len(chunk))
        finally:
            bar.close()
        facts = self.repository.all_meta()
        for key, value in facts.items():
            target.set_meta(key, value)
        self._copy_removals(target)
        self._verify_rows(target, len(records))
        return len(records), len(facts)

    def _copy_removals(self, target: Repository) -> None:
        """What the class commands took out of the gallery stays out on the target."""
        removals = self.repository.removals()
        for name in sorted(removals.classes):
            target.mark_class_removed(name)
        target.mark_images_removed(
            [ImageRecord(path, _folder_class(path), "", 0) for path in sorted(removals.paths)]
        )

    def _verify_rows(self, target: Repository, expected: int) -> None:
        copied = target.count_images()
        same = (
            target.source_counts() == self.repository.source_counts()
            and target.removals() == self.repository.removals()
        )
        if copied != expected or not same:
            raise VerificationFailed(
                f"verification failed: the source has {expected} images, the target {copied} "
                "(or other products, sources or removals); the source is unchanged"
            )

    # ---- vectors -----------------------------------------------------------------------------

    def _copy_vectors(self, target: VectorStore, overwrite: bool) -> int:
        source = self.store
        stamp = source.model_stamp
        if stamp is None or len(source) == 0:
            raise IndexNotReady("nothing to copy: the source index is empty (run `rebuild` first)")
        held = len(target)
        if held and not overwrite:
            raise ConfigError(
                f"the target index already holds {held} vectors ({target.model_stamp}): "
                "pass --overwrite to replace them"
            )
        ids = source.ids()
        target.reset(stamp)
        bar = self.progress(total=int(ids.size), desc="copying vectors")
        try:
            for chunk in chunks(ids, VECTOR_CHUNK):
                target.add(chunk, source.vectors(chunk), self._payloads(chunk))
                bar.update(len(chunk))
        finally:
            bar.close()
        target.save()
        self._verify_vectors(target, ids, stamp)
        return int(ids.size)

    def _payloads(self, ids: np.ndarray) -> list[VectorPayload]:
        records = self.repository.get_images(ids.tolist())
        return [
            VectorPayload(product_id=records[i].product_id) if i in records else VectorPayload()
            for i in ids.tolist()
        ]

    def _verify_vectors(self, target: VectorStore, ids: np.ndarray, stamp: str) -> None:
        """Reload the target from what it persisted and compare it with the source."""
        if not target.load() or target.model_stamp != stamp:
            raise VerificationFailed("verification failed: the target index did not load back")
        copied = np.sort(target.ids())
        if not np.array_equal(copied, np.sort(ids)):
            raise VerificationFailed(
                f"verification failed: the source has {ids.size} vectors, the target "
                f"{copied.size} (or other ids); the source is unchanged"
            )
        rows = np.unique(np.linspace(0, ids.size - 1, min(SAMPLE, ids.size)).astype(np.int64))
        sample = ids[rows]
        if not np.allclose(target.vectors(sample), self.store.vectors(sample), atol=1e-5):
            raise VerificationFailed("verification failed: copied vectors differ from the source")

"""Use case: train attribute heads on photos sorted into
`<training dir>/<category>/<attribute>/<class>/*.jpg`, on the frozen embedding model.

Photo embeddings are cached by content (on disk in the app), so training again, with other
options or after adding a few photos, embeds only what is new.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from app.domain.errors import InvalidInput, NotFound
from app.domain.heads import LabelledVectors, TrainOptions, TrainReport
from app.domain.images import ImageInput
from app.domain.models import SkippedFile
from app.interfaces.heads import AttributeHeads
from app.services.cached_embeddings import CachedEmbeddings
from app.services.progress import ProgressFactory, no_progress
from app.services.scanning import iter_image_files


@dataclass(eq=False)
class TrainService:
    embeddings: CachedEmbeddings
    heads: AttributeHeads
    training_dir: Path
    progress: ProgressFactory = no_progress

    def __post_init__(self) -> None:
        self.training_dir = Path(self.training_dir)

    def datasets(self) -> list[tuple[str, str]]:
        """Every (category, attribute) with class folders under the training folder."""
        if not self.training_dir.is_dir():
            return []
        return [
            (category.name, attribute.name)
            for category in _subfolders(self.training_dir)
            for attribute in _subfolders(category)
            if _subfolders(attribute)
        ]

    def train(self, category: str, attribute: str, options: TrainOptions) -> TrainReport:
        started = time.perf_counter()
        folder = self.training_dir / _safe(category) / _safe(attribute)
        files = self._labelled_files(folder)
        skipped: list[SkippedFile] = []
        images = [ImageInput.file(path) for path, _ in files]
        vectors, kept = self.embeddings.embed(images, skipped, self.progress)
        label_of = {str(path): label for path, label in files}
        data = LabelledVectors(vectors, [label_of[image.name] for image in kept])
        if len(data.classes) < 2:
            raise InvalidInput(f"{folder}: needs photos of at least two classes to train")
        head = self.heads.train(category, attribute, data, options, self.embeddings.embedder.stamp)
        return TrainReport(head, skipped, time.perf_counter() - started)

    def train_all(self, options: TrainOptions) -> list[TrainReport]:
        found = self.datasets()
        if not found:
            raise NotFound(
                f"no training data under {self.training_dir} "
                "(expected <category>/<attribute>/<class>/ folders of photos)"
            )
        return [self.train(category, attribute, options) for category, attribute in found]

    def _labelled_files(self, folder: Path) -> list[tuple[Path, str]]:
        if not folder.is_dir():
            raise NotFound(
                f"no training data at {folder} (expected <class>/ folders of photos in it)"
            )
        files = [(path, cls.name) for cls in _subfolders(folder) for path in iter_image_files(cls)]
        if not files:
            raise NotFound(f"no photos under {folder}/<class>/")
        return files


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _safe(name: str) -> str:
    """A category or attribute name is one folder name, never a path."""
    if not name or Path(name).name != name or name in {".", ".."}:
        raise InvalidInput(f"bad name {name!r}: use a plain folder name")
    return name

"""Embeddings of image files, looked up in a cache by content before the model is asked.

The key is (kind, embedding stamp, content hash), so the same bytes are embedded once per model
and preprocessing, whatever their path; another model or preprocessing simply misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.domain.images import ImageInput
from app.domain.models import SkippedFile, unreadable
from app.interfaces.cache import Cache
from app.services.pipeline import Embedder
from app.services.progress import ProgressFactory, no_progress


@dataclass(frozen=True)
class CachedEmbeddings:
    embedder: Embedder
    cache: Cache
    kind: str = "query"

    def embed(
        self,
        images: Sequence[ImageInput],
        skipped: list[SkippedFile],
        progress: ProgressFactory = no_progress,
        desc: str = "embedding",
    ) -> tuple[np.ndarray, list[ImageInput]]:
        """(vectors, the images they belong to): bad ones are appended to `skipped` instead."""
        found: dict[ImageInput, np.ndarray] = {}
        keys: dict[ImageInput, str] = {}
        for image in images:
            try:
                digest = image.digest
            except OSError as exc:
                skipped.append(unreadable(image.name, exc))
                continue
            keys[image] = f"{self.kind}:{self.embedder.stamp}:{digest}"
            if (cached := self.cache.get(keys[image])) is not None:
                found[image] = cached
        missing = [image for image in keys if image not in found]
        bar = progress(total=len(missing), desc=desc)
        try:
            for batch in self.embedder.embed_files(missing, lambda image: image):
                skipped.extend(batch.skipped)
                for image, vector in zip(batch.items, batch.vectors, strict=True):
                    self.cache.put(keys[image], vector)
                    found[image] = vector
                bar.update(len(batch.items) + len(batch.skipped))
        finally:
            bar.close()
        kept = [image for image in keys if image in found]
        if not kept:
            return np.empty((0, 0), dtype=np.float32), []
        return np.stack([found[image] for image in kept]), kept

"""Embeddings of image files, looked up in a cache by content before the model is asked.

The key is (kind, embedding stamp, content hash), so the same bytes are embedded once per model
and preprocessing, whatever their path; another model or preprocessing simply misses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.domain.models import SkippedFile
from app.interfaces.cache import Cache
from app.services.pipeline import Embedder
from app.services.progress import ProgressFactory, no_progress
from app.services.scanning import unreadable
from app.services.sources import Source, source_digest


@dataclass(frozen=True)
class CachedEmbeddings:
    embedder: Embedder
    cache: Cache
    kind: str = "query"

    def embed(
        self,
        files: Sequence[Source],
        skipped: list[SkippedFile],
        progress: ProgressFactory = no_progress,
    ) -> tuple[np.ndarray, list[Source]]:
        """(vectors, the images they belong to): bad ones are appended to `skipped` instead.

        Images are file paths or uploads (bytes)."""
        found: dict[Source, np.ndarray] = {}
        keys: dict[Source, str] = {}
        for path in files:
            try:
                digest = source_digest(path)
            except OSError as exc:
                skipped.append(unreadable(path, exc))
                continue
            keys[path] = f"{self.kind}:{self.embedder.stamp}:{digest}"
            if (cached := self.cache.get(keys[path])) is not None:
                found[path] = cached
        missing = [p for p in keys if p not in found]
        bar = progress(total=len(missing), desc="embedding")
        try:
            for batch in self.embedder.embed_files(missing, lambda p: p):
                skipped.extend(batch.skipped)
                for path, vector in zip(batch.items, batch.vectors, strict=True):
                    self.cache.put(keys[path], vector)
                    found[path] = vector
                bar.update(len(batch.items) + len(batch.skipped))
        finally:
            bar.close()
        kept = [p for p in keys if p in found]
        if not kept:
            return np.empty((0, 0), dtype=np.float32), []
        return np.stack([found[p] for p in kept]), kept

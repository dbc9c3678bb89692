"""`FeatureExtractor`: embeddings of image files, from the configured model and preprocessing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.config import Settings
from app.container import Container, build_container
from app.domain.errors import ImageError
from app.domain.images import ImageInput


class FeatureExtractor:
    """The same embeddings `rebuild` and `query` compute (EMBEDDING_MODEL, PREPROCESS_*)."""

    def __init__(self, settings: Settings | None = None, container: Container | None = None):
        self.container = container or build_container(settings)

    def extract_features(self, image_path: str | Path) -> np.ndarray:
        """(D,) unit-length float32 embedding of one image file (ImageError when unusable)."""
        return self.extract_batch_features([image_path])[0]

    def extract_batch_features(self, image_paths: Sequence[str | Path]) -> np.ndarray:
        """(N, D) unit-length float32 rows, one per path in order. An unusable file raises
        ImageError naming it (and how many others failed): rows never shift."""
        images = ImageInput.files(image_paths)
        batch = self.container.embedder().embed_all(images)
        if batch.skipped:
            first = batch.skipped[0]
            more = f" (and {len(batch.skipped) - 1} more files)" if len(batch.skipped) > 1 else ""
            raise ImageError(first.path, first.reason + more)
        if not images:
            return np.empty((0, 0), dtype=np.float32)
        return np.asarray(batch.vectors, dtype=np.float32)

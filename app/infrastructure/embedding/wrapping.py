"""A base for adapters that wrap another EmbeddingModel and change only how it runs."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from app.infrastructure.embedding.runtime import EmbedImagesFromPixels


class EmbeddingWrapper(EmbedImagesFromPixels):
    """Delegates every EmbeddingModel member to `inner`; subclasses override what they change.

    The stamp is the inner model's: a wrapper must not change the embeddings.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id

    @property
    def stamp(self) -> str:
        return str(self.inner.stamp)

    @property
    def supports_text(self) -> bool:
        return bool(self.inner.supports_text)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    @property
    def is_loaded(self) -> bool:
        return bool(self.inner.is_loaded)

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        return self.inner.to_pixels(image)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        return self.inner.embed_pixels(pixels)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_texts(texts)

    def unload(self) -> None:
        self.inner.unload()

    def __getattr__(self, name: str) -> Any:
        """Adapter extras (pixel_spec, torch_module, runtime...) come from the wrapped model."""
        if name == "inner":  # not set yet (during construction or unpickling)
            raise AttributeError(name)
        return getattr(self.inner, name)

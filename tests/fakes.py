"""Small, fast stand-ins for the slow edge (the neural network). Everything else is real."""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image

from app.domain.errors import UnsupportedOperation
from app.domain.scoring import l2_normalize


class ThumbnailModel:
    """An EmbeddingModel whose embedding is the normalised 8x8 colour thumbnail.

    Similar-looking images get similar embeddings, which is all the services need. It counts the
    images it embeds so tests can prove what was (not) re-embedded, and can be told to fail.
    """

    supports_text = False

    def __init__(self, model_id: str = "thumbnail-8", fail_after: int | None = None) -> None:
        self.model_id = model_id
        self.stamp = f"{model_id}:v1"
        self.embedded = 0
        self.fail_after = fail_after
        self._loaded = False
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        return self._loaded

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        small = image.convert("RGB").resize((8, 8), Image.Resampling.BILINEAR)
        return np.asarray(small, dtype=np.float32).reshape(-1) / 255.0 - 0.5

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        with self._lock:
            if self.fail_after is not None and self.embedded + len(pixels) > self.fail_after:
                raise RuntimeError("simulated crash in the model")
            self._loaded = True
            self.embedded += len(pixels)
        return l2_normalize(pixels)

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        return self.embed_pixels(np.stack([self.to_pixels(i) for i in images]))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise UnsupportedOperation("text queries need a text-image model")

    def unload(self) -> None:
        self._loaded = False

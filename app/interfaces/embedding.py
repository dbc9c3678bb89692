"""Port: a model that turns images (and, for text-image models, texts) into embeddings."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from PIL import Image


class EmbeddingModel(Protocol):
    """Contract.

    - `model_id` is the resolved id (never "auto"); `stamp` identifies the model AND its input
      processing, so stored embeddings can be checked against the current model.
    - Construction is cheap: weights load lazily, once, behind a lock, on first use.
    - `to_pixels(image)` is the per-image CPU work (the model's own image processor); it is
      thread-safe so a pipeline can run it in worker threads while the model runs.
    - `embed_pixels(batch)` runs the model on a stacked batch of `to_pixels` outputs and returns
      (N, dim) float32 rows of unit length, in an array of its own (never the batch or a view
      of it: a pipeline reuses the batch array for the next batch). `embed_images` does both.
    - `embed_texts` works when `supports_text` is True, else raises UnsupportedOperation.
    - `unload()` frees the weights; the next call loads them again.
    """

    model_id: str
    stamp: str
    supports_text: bool

    @property
    def is_loaded(self) -> bool: ...

    def to_pixels(self, image: Image.Image) -> np.ndarray: ...

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray: ...

    def embed_images(self, images: list[Image.Image]) -> np.ndarray: ...

    def embed_texts(self, texts: list[str]) -> np.ndarray: ...

    def unload(self) -> None: ...

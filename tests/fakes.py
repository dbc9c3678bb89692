"""Small, fast stand-ins for the slow edge (the neural network). Everything else is real."""

from __future__ import annotations

import threading
import time

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


COLOUR_WORDS = {
    "red": (200, 30, 30),
    "green": (30, 180, 40),
    "blue": (30, 50, 210),
    "shoe": (200, 30, 30),
    "hat": (30, 180, 40),
    "dress": (30, 50, 210),
}


class ColourWordsModel(ThumbnailModel):
    """A text-image stand-in: a text's embedding is the thumbnail of a photo in the colour its
    first colour word names (colours before objects: "a blue shoe" is blue; "a shoe" is red).

    So zero-shot over the coloured test photos gives meaningful, predictable answers. It records
    every list of texts it embeds.
    """

    supports_text = True

    def __init__(self, model_id: str = "colour-words") -> None:
        super().__init__(model_id)
        self.text_calls: list[list[str]] = []

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        self.text_calls.append(list(texts))
        return np.stack([self._text_vector(text) for text in texts])

    @property
    def texts_embedded(self) -> list[str]:
        return [text for call in self.text_calls for text in call]

    def _text_vector(self, text: str) -> np.ndarray:
        words = text.lower().replace(".", " ").replace(",", " ").split()
        colours = [w for w in words if w in COLOUR_WORDS]
        colours.sort(key=lambda w: w not in {"red", "green", "blue"})
        canvas = np.full((64, 64, 3), 255, dtype=np.uint8)  # like a padded test photo
        canvas[8:56] = 235
        if colours:
            canvas[16:48, 12:52] = COLOUR_WORDS[colours[0]]
        pixels = self.to_pixels(Image.fromarray(canvas))
        return l2_normalize(pixels[None])[0]


class SlowModel(ThumbnailModel):
    """The thumbnail model taking `seconds` per call, recording each call's batch size (so tests
    can see concurrent requests share model calls)."""

    def __init__(self, seconds: float = 0.02) -> None:
        super().__init__()
        self.seconds = seconds
        self.batches: list[int] = []

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        self.batches.append(len(pixels))
        time.sleep(self.seconds)
        return super().embed_pixels(pixels)


class ReadIndexFails:
    """faiss with `read_index` failing as it does when the process is out of file handles
    (patched in as `faiss_store.load_faiss`)."""

    def __init__(self, faiss: object) -> None:
        self._faiss = faiss

    def __getattr__(self, name: str) -> object:
        if name == "read_index":
            raise OSError(24, "Too many open files")
        return getattr(self._faiss, name)

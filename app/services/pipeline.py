"""Decode and preprocess images in worker threads while the model embeds the previous batch."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np
from PIL import Image

from app.domain.errors import ImageError
from app.domain.images import ImageInput
from app.domain.models import SkippedFile
from app.interfaces.embedding import EmbeddingModel
from app.interfaces.preprocessing import ImagePreprocessor

T = TypeVar("T")


@dataclass(frozen=True)
class EmbeddedBatch(Generic[T]):
    """Items that embedded well, their vectors (same order), and the items that failed."""

    items: list[T]
    vectors: np.ndarray
    skipped: list[SkippedFile]


@dataclass(frozen=True)
class Embedder:
    """Preprocessor + model + how to batch. `on_prepared` sees each image the model sees."""

    preprocessor: ImagePreprocessor
    model: EmbeddingModel
    batch_size: int = 32
    workers: int = 0
    on_prepared: Callable[[Path, Image.Image], None] | None = None
    on_batch: Callable[[float], None] | None = None  # seconds one model batch took

    @property
    def stamp(self) -> str:
        """What produced an embedding: the model and the preprocessing before it."""
        return f"{self.model.stamp}|{self.preprocessor.stamp}"

    def _prepare(self, image: ImageInput) -> np.ndarray:
        picture = self.preprocessor.prepare(image.content, image.name)
        if self.on_prepared is not None:
            self.on_prepared(Path(image.name), picture)
        return self.model.to_pixels(picture)

    def embed_files(
        self, items: Sequence[T], image_of: Callable[[T], ImageInput]
    ) -> Iterator[EmbeddedBatch[T]]:
        """Yield batches in input order. Bad files are reported in `skipped`, never raised.

        `image_of` gives each item's image (a file or bytes). One image (an API request) is
        prepared in the calling thread: no pool, no hand-over."""
        if len(items) == 1:
            yield self._embed_one(items[0], image_of(items[0]))
            return
        workers = self.workers or min(4, (os.cpu_count() or 1) + 1)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="decode") as pool:
            pending: deque[tuple[T, Future[np.ndarray]]] = deque()
            source = iter(items)
            lookahead = self.batch_size * 2
            ready: list[tuple[T, np.ndarray]] = []
            skipped: list[SkippedFile] = []
            stack = _BatchArray().stack  # one batch array, reused: no fresh pages per batch
            while True:
                while len(pending) < lookahead and (item := next(source, None)) is not None:
                    pending.append((item, pool.submit(self._prepare, image_of(item))))
                if not pending:
                    break
                item, future = pending.popleft()
                self._collect(item, future, image_of, ready, skipped)
                if len(ready) >= self.batch_size:
                    yield self._embed(ready, skipped, stack)
                    ready, skipped = [], []
            if ready or skipped:
                yield self._embed(ready, skipped, stack)

    def embed_all(self, images: Sequence[ImageInput]) -> EmbeddedBatch[ImageInput]:
        """Every image's embedding in one batch (input order); bad ones in `skipped`."""
        items: list[ImageInput] = []
        vectors: list[np.ndarray] = []
        skipped: list[SkippedFile] = []
        for batch in self.embed_files(images, lambda image: image):
            items += batch.items
            skipped += batch.skipped
            if batch.items:
                vectors.append(batch.vectors)
        stacked = np.concatenate(vectors) if vectors else np.empty((0, 0), dtype=np.float32)
        return EmbeddedBatch(items, stacked, skipped)

    def _embed_one(self, item: T, image: ImageInput) -> EmbeddedBatch[T]:
        try:
            pixels = self._prepare(image)
        except ImageError as exc:
            return self._embed([], [SkippedFile.of(exc, image.name)])
        return self._embed([(item, pixels)], [])

    @staticmethod
    def _collect(item, future, image_of, ready, skipped) -> None:
        try:
            ready.append((item, future.result()))
        except ImageError as exc:
            skipped.append(SkippedFile.of(exc, image_of(item).name))

    def _embed(
        self,
        ready: list,
        skipped: list[SkippedFile],
        stack: Callable[[list[np.ndarray]], np.ndarray] = np.stack,
    ) -> EmbeddedBatch:
        if not ready:
            return EmbeddedBatch([], np.empty((0, 0), dtype=np.float32), skipped)
        started = time.perf_counter()
        vectors = self.model.embed_pixels(stack([pixels for _, pixels in ready]))
        if self.on_batch is not None:
            self.on_batch(time.perf_counter() - started)
        return EmbeddedBatch([item for item, _ in ready], vectors, skipped)


class _BatchArray:
    """One array the batches of a run are stacked into. The model call is synchronous and keeps
    no reference to its input, so the next batch may overwrite it; a fresh 19 MB array per batch
    cost page faults and held the GIL longer."""

    def __init__(self) -> None:
        self._array: np.ndarray | None = None

    def stack(self, arrays: list[np.ndarray]) -> np.ndarray:
        shape = (len(arrays), *arrays[0].shape)
        held = self._array
        if held is None or held.shape[1:] != shape[1:] or len(held) < len(arrays):
            held = self._array = np.empty(shape, dtype=arrays[0].dtype)
        return np.stack(arrays, out=held[: len(arrays)])

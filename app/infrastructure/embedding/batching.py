"""Micro-batching: concurrent `embed_pixels` calls (API requests) share one model call.

No thread of its own: the first caller finding the model idle runs it ("leader") on everything
queued so far; callers arriving meanwhile queue up and the next leader takes them all as one batch.
A lone request therefore runs at once (no added wait); under load, batches form by themselves while
the model is busy. Answers equal one-by-one answers: rows are only stacked and split again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.infrastructure.embedding.wrapping import EmbeddingWrapper


@dataclass(eq=False)
class _Request:
    pixels: np.ndarray
    result: np.ndarray | None = None
    error: BaseException | None = None
    finished: bool = False


class MicroBatchingEmbedding(EmbeddingWrapper):
    """Coalesces concurrent `embed_pixels` calls into model calls of at most `max_batch` rows.

    `max_wait_s` (default 0) lets a leader wait that long for more requests when the queue holds
    fewer than `max_batch` rows; 0 never delays a request.
    """

    def __init__(self, inner: Any, max_batch: int = 32, max_wait_s: float = 0.0) -> None:
        super().__init__(inner)
        self._max_batch = max(1, int(max_batch))
        self._max_wait_s = max(0.0, float(max_wait_s))
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._running = False
        self.calls = 0  # model calls made (requests / calls = the mean batch, for benchmarks)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        request = _Request(np.ascontiguousarray(pixels, dtype=np.float32))
        if request.pixels.shape[0] == 0:
            return self.inner.embed_pixels(request.pixels)
        with self._cond:
            self._queue.append(request)
            self._cond.notify_all()  # a leader waiting for more requests sees this one
            while self._running and not request.finished:
                self._cond.wait()
            if not request.finished:
                self._running = True
        if not request.finished:
            self._lead(request)
        if request.error is not None:
            raise request.error
        assert request.result is not None
        return request.result

    def _lead(self, mine: _Request) -> None:
        """Run batches from the queue until `mine` is answered, then hand the model over."""
        try:
            while not mine.finished:
                self._wait_for_more()
                with self._cond:
                    batch = self._take()
                self._run(batch)
        finally:
            with self._cond:
                self._running = False
                self._cond.notify_all()

    def _wait_for_more(self) -> None:
        if self._max_wait_s <= 0:
            return
        deadline = time.monotonic() + self._max_wait_s
        with self._cond:
            while sum(len(r.pixels) for r in self._queue) < self._max_batch:
                left = deadline - time.monotonic()
                if left <= 0 or not self._cond.wait(left):
                    return

    def _take(self) -> list[_Request]:
        """The oldest requests of one input shape, up to `max_batch` rows (at least one request)."""
        first = self._queue[0]
        batch, rows = [], 0
        for request in list(self._queue):
            same = request.pixels.shape[1:] == first.pixels.shape[1:]
            if same and (not batch or rows + len(request.pixels) <= self._max_batch):
                batch.append(request)
                rows += len(request.pixels)
                self._queue.remove(request)
        return batch

    def _run(self, batch: list[_Request]) -> None:
        try:
            stacked = np.concatenate([request.pixels for request in batch])
            vectors = self.inner.embed_pixels(stacked)
            self.calls += 1
        except BaseException as error:  # every waiting caller gets the model's error
            for request in batch:
                request.error = error
        else:
            start = 0
            for request in batch:
                request.result = vectors[start : start + len(request.pixels)]
                start += len(request.pixels)
        with self._cond:
            for request in batch:
                request.finished = True
            self._cond.notify_all()

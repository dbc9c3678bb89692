"""Micro-batching: concurrent calls share model calls and get the answers one-by-one calls get."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.infrastructure.embedding.batching import MicroBatchingEmbedding
from tests.fakes import SlowModel


def _pixels(model, count: int, seed: int) -> np.ndarray:
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = [
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)) for _ in range(count)
    ]
    return np.stack([model.to_pixels(image) for image in images])


def _hammer(model, requests: list[np.ndarray]) -> list[np.ndarray]:
    answers: list[np.ndarray | None] = [None] * len(requests)
    start = threading.Barrier(len(requests))

    def call(i: int) -> None:
        start.wait()
        answers[i] = model.embed_pixels(requests[i])

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers  # type: ignore[return-value]


def test_concurrent_calls_are_batched_and_answers_equal_one_by_one() -> None:
    inner = SlowModel()
    requests = [_pixels(inner, 1 + i % 2, seed=i) for i in range(12)]
    alone = [inner.embed_pixels(r) for r in requests]
    inner.batches.clear()
    batched = MicroBatchingEmbedding(inner, max_batch=8)
    answers = _hammer(batched, requests)
    for got, expected in zip(answers, alone, strict=True):
        np.testing.assert_array_equal(got, expected)
    assert sum(inner.batches) == sum(len(r) for r in requests)
    assert len(inner.batches) < len(requests)  # some calls carried several requests
    assert max(inner.batches) <= 8


def test_a_lone_call_runs_at_once_in_the_callers_thread() -> None:
    inner = SlowModel()
    batched = MicroBatchingEmbedding(inner, max_batch=8)
    pixels = _pixels(inner, 3, seed=1)
    np.testing.assert_array_equal(batched.embed_pixels(pixels), inner.embed_pixels(pixels))
    assert inner.batches == [3, 3]
    assert batched.stamp == inner.stamp and batched.model_id == inner.model_id


def test_a_model_error_reaches_every_caller_of_the_batch_and_the_next_call_works() -> None:
    class Failing(SlowModel):
        fail = True

        def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
            if self.fail:
                time.sleep(0.02)
                raise RuntimeError("out of memory")
            return super().embed_pixels(pixels)

    inner = Failing()
    batched = MicroBatchingEmbedding(inner, max_batch=8)
    errors: list[str] = []

    def call(seed: int) -> None:
        try:
            batched.embed_pixels(_pixels(inner, 1, seed))
        except RuntimeError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == ["out of memory"] * 4
    inner.fail = False
    assert batched.embed_pixels(_pixels(inner, 2, seed=9)).shape == (2, 192)


@pytest.mark.parametrize("wait", [0.0, 0.05])
def test_requests_of_different_shapes_are_never_stacked(wait: float) -> None:
    inner = SlowModel()
    batched = MicroBatchingEmbedding(inner, max_batch=8, max_wait_s=wait)
    small = _pixels(inner, 1, seed=2)
    other = np.zeros((1, *small.shape[1:-1], small.shape[-1] + 1), dtype=np.float32)
    inner_shapes: list[tuple] = []
    original = inner.embed_pixels

    def record(pixels: np.ndarray) -> np.ndarray:
        inner_shapes.append(pixels.shape[1:])
        return original(pixels[..., : small.shape[-1]])

    inner.embed_pixels = record  # type: ignore[method-assign]
    _hammer(batched, [small, other, small, other])
    assert set(inner_shapes) == {small.shape[1:], other.shape[1:]}

"""Concurrent /search and /predict requests share model calls and answer as one-by-one calls do."""

from __future__ import annotations

import threading

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.infrastructure.embedding.batching import MicroBatchingEmbedding
from tests.api.conftest import jpeg
from tests.fakes import SlowModel

COLOURS = [(200, 30, 30), (30, 180, 40), (30, 50, 210), (190, 60, 40), (40, 170, 60), (60, 60, 200)]


@pytest.fixture
def slow_client(settings):
    from app.container import build_container

    # no query caches: every request must reach the model
    container = build_container(
        settings.model_copy(update={"cache_size": 0, "embedding_cache_size": 0})
    )
    model = SlowModel(seconds=0.05)
    container.embedding_model.override(providers.Object(MicroBatchingEmbedding(model, 32)))
    container.rebuild_service().run()
    with TestClient(create_app(container, warm_up=False)) as client:
        yield client, model


def _ask(client: TestClient, path: str, blob: bytes) -> dict:
    reply = client.post(path, files={"file": ("q.jpg", blob, "image/jpeg")})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    body.pop("elapsed_ms", None)
    body.pop("timing", None)
    return body


def test_concurrent_requests_share_model_calls_and_answers_equal_one_by_one(slow_client) -> None:
    client, model = slow_client
    asks = [
        (path, jpeg(colour, seed=i))
        for path in ("/search", "/predict")
        for i, colour in enumerate(COLOURS)
    ]
    alone = [_ask(client, path, blob) for path, blob in asks]
    model.batches.clear()

    answers: list[dict | None] = [None] * len(asks)
    start = threading.Barrier(len(asks))

    def ask(i: int) -> None:
        start.wait()
        answers[i] = _ask(client, *asks[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(asks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == alone
    assert sum(model.batches) == len(asks)
    assert len(model.batches) < len(asks)  # several requests went through one model call

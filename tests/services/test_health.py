"""Health per dependency: the database, the index and the model, each turning unavailable and
back; stats separate indexed from pending images."""

from __future__ import annotations

from dependency_injector import providers
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.domain.errors import BackendUnavailable
from app.domain.models import ImageRecord


class _BrokenStore:
    def __len__(self) -> int:
        raise BackendUnavailable("Qdrant unavailable: connection refused")


def test_health_follows_each_dependency(container):
    container.rebuild_service().run(None)
    with TestClient(create_app(container, warm_up=False)) as client:
        body = client.get("/health").json()
        assert body["status"] == "ok" and body["index_size"] == 9
        assert {n: c["status"] for n, c in body["checks"].items()} == dict.fromkeys(
            ("database", "index", "model"), "ok"
        )
        with container.vector_store.override(providers.Object(_BrokenStore())):
            r = client.get("/health")
            assert r.status_code == 503 and r.json()["checks"]["index"]["status"] == "unavailable"
            assert "index: Qdrant unavailable" in r.json()["message"]
        client.app.state.model_error = "no such model"
        container.embedding_model().unload()
        r = client.get("/health")
        assert r.status_code == 503
        assert r.json()["checks"]["model"] == {"status": "unavailable", "detail": "no such model"}
        client.app.state.model_error = None
        assert client.get("/health").json()["checks"]["model"]["status"] in ("ok", "loading")
        assert client.get("/health").status_code == 200


def test_stats_separate_indexed_from_pending(container):
    container.rebuild_service().run(None)
    stats = container.stats_service().get()
    assert (stats.images, stats.indexed, stats.pending) == (9, 9, 0)
    # what an interrupted rebuild leaves: a row written, its vector never saved
    container.repository().upsert_images([ImageRecord("x/new.jpg", "red-shoe", "h" * 32, 10)])
    stats = container.stats_service().get()
    assert (stats.images, stats.indexed, stats.pending) == (10, 9, 1)

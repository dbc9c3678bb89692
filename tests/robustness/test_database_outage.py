"""PostgreSQL stopped under a running API: every route that needs it answers 503 JSON without
the server's address, /health reports the database unavailable, and both recover once it is back."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.api.main import create_app
from app.container import build_container
from tests.api.conftest import jpeg
from tests.robustness.postgres_outage import postgres_down

RED = (200, 30, 30)


@pytest.fixture
def pg_client(settings, fake_model, postgres_url):
    from dependency_injector import providers

    container = build_container(settings.model_copy(update={"database_url": postgres_url}))
    container.embedding_model.override(providers.Object(fake_model))
    container.rebuild_service().run(None)
    with TestClient(create_app(container, warm_up=False)) as client:
        yield client, make_url(postgres_url)
    container.repository().close()


def _image(seed: int = 1) -> dict:
    return {"file": ("q.jpg", io.BytesIO(jpeg(RED, seed)), "image/jpeg")}


def _images(seed: int = 1) -> list:
    return [("files", ("a.jpg", jpeg(RED, seed), "image/jpeg"))]


ROUTES = [
    ("post", "/search", lambda: {"files": _image(), "data": {"k": 3}}),
    ("post", "/predict", lambda: {"files": _image()}),
    ("post", "/classify", lambda: {"files": _images()}),
    ("post", "/upload", lambda: {"files": _image(7), "data": {"product_id": "red-shoe"}}),
    ("post", "/class/add/purple", lambda: {"files": _images(8)}),
    ("post", "/class/update/red-shoe", lambda: {"files": _images(9)}),
    ("delete", "/class/green-hat", dict),
    ("request", "/examples", lambda: {"method": "DELETE", "json": [1]}),
    ("post", "/feedback", lambda: {"data": {"verdict": "good", "query_id": 1, "image_id": 2}}),
    ("get", "/feedback", dict),
    ("get", "/feedback/stats", dict),
    ("delete", "/feedback", dict),
    ("post", "/feedback/promote", dict),
    ("post", "/segment/1", dict),
]


def test_every_route_answers_503_json_while_the_database_is_down(pg_client):
    client, url = pg_client
    assert client.get("/health").json()["checks"]["database"]["status"] == "ok"
    with postgres_down():
        health = client.get("/health")
        assert health.status_code == 503, health.text
        assert health.json()["checks"]["database"]["status"] == "unavailable"
        assert health.json()["checks"]["index"]["status"] == "ok"
        for method, path, kwargs in ROUTES:
            if method == "request":
                r = client.request(url=path, **kwargs())
            else:
                r = getattr(client, method)(path, **kwargs())
            assert r.status_code == 503, (method, path, r.status_code, r.text)
            body = r.json()
            assert body["code"] == 503 and "database unavailable" in body["message"], body
            leaked = [str(url.port), url.host, f"{url.username}@", url.database]
            assert not [x for x in leaked if x and x in r.text], (path, r.text)
    assert client.get("/health").status_code == 200  # back, without a restart
    r = client.post("/search", files=_image(), data={"k": 3})
    assert r.status_code == 200 and r.json()["hits"][0]["product_id"] == "red-shoe"

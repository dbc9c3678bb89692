"""Catalogue over HTTP: rebuild job, search by image and text, upload, health, metrics, keys."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import jpeg


def _rebuild(client, headers=None) -> dict:
    r = client.post("/rebuild", headers=headers or {})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    for _ in range(200):
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("rebuild job did not finish")


def test_rebuild_job_then_search(client):
    job = _rebuild(client)
    assert job["status"] == "done" and job["result"]["embedded"] == 9
    assert job["progress"] == 1.0
    r = client.post("/search", files={"file": ("q.jpg", jpeg((30, 180, 40), 4), "image/jpeg")},
                    data={"k": "2"})  # fmt: skip
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert [h["product_id"] for h in hits] == ["green-hat", "green-hat"]
    assert set(hits[0]) == {"rank", "score", "image_id", "product_id", "path"}


def test_search_errors(client):
    q = {"file": ("q.jpg", jpeg((1, 2, 3)), "image/jpeg")}
    assert client.post("/search", files=q).status_code == 409  # no index yet
    _rebuild(client)
    assert client.post("/search").status_code == 400  # neither file nor text
    r = client.post("/search", data={"text": "a red shoe"})
    assert r.status_code == 400 and "text-image model" in r.json()["message"]
    r = client.post("/search", files={"file": ("x.jpg", b"", "image/jpeg")})
    assert r.status_code == 400 and "empty" in r.json()["message"]
    assert client.get("/jobs/nope").status_code == 404


def test_upload_indexes_the_image(client):
    r = client.post("/upload", files={"file": ("mug.jpg", jpeg((90, 90, 90), 1), "image/jpeg")},
                    data={"product_id": "mug"})  # fmt: skip
    assert r.status_code == 201, r.text
    image_id = r.json()["id"]
    r = client.post("/search", files={"file": ("q.jpg", jpeg((90, 90, 90), 2), "image/jpeg")})
    assert r.json()["hits"][0]["image_id"] == image_id


def test_oversize_upload_is_413(client, container):
    limit = container.settings().max_upload_bytes
    big = b"\xff\xd8" + b"\0" * (limit + 10)
    r = client.post("/search", files={"file": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and "big.jpg" in r.json()["message"]


def test_api_key_guards_mutations(settings, fake_model):
    from dependency_injector import providers
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.container import build_container

    c = build_container(settings.model_copy(update={"api_key": "s3cret"}))
    c.embedding_model.override(providers.Object(fake_model))
    with TestClient(create_app(c, warm_up=False)) as client:
        assert client.post("/rebuild").status_code == 401
        assert client.post("/rebuild", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.delete("/class/x").status_code == 401
        assert _rebuild(client, {"X-API-Key": "s3cret"})["status"] == "done"
        assert client.get("/health").status_code == 200  # reads stay open


def test_health_and_metrics(client):
    _rebuild(client)
    client.post("/search", files={"file": ("q.jpg", jpeg((200, 30, 30)), "image/jpeg")})
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["index_size"] == 9
    text = client.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["imgrecog_index_vectors"].samples[0].value == 9
    routes = {s.labels.get("route") for s in families["imgrecog_requests"].samples}
    assert "/search" in routes and "/jobs/{job_id}" in routes
    assert any(s.value > 0 for s in families["imgrecog_embedding_batch_seconds"].samples
               if s.name.endswith("_count"))  # fmt: skip


def test_docs_and_schema(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/predict", "/search", "/upload", "/rebuild", "/class/add/{name}", "/examples"):
        assert path in paths


def test_openapi_declares_the_api_key_on_every_mutating_route(client):
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "the API_KEY setting; required on mutating endpoints when it is set",
    }
    secured = {
        (method, path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if {"ApiKey": []} in op.get("security", [])
    }
    assert ("post", "/rebuild") in secured and ("delete", "/examples") in secured
    assert ("post", "/feedback") in secured and ("post", "/search") not in secured


def test_classify_answers_like_the_cli(client):
    _rebuild(client)
    blue = ("b.jpg", jpeg((30, 50, 210), 7), "image/jpeg")
    bad = ("bad.jpg", b"nope", "image/jpeg")
    r = client.post("/classify", files=[("files", blue), ("files", bad)])
    assert r.status_code == 200, r.text
    body = r.json()
    (result,) = body["results"]
    assert result["image"] == "b.jpg" and result["retrieval"]["class"] == "blue-dress"
    assert body["skipped"] == [
        {"file": "bad.jpg", "reason": "not an image (unrecognised format)", "code": 415}
    ]
    r = client.post("/classify", files=[("files", bad)])
    assert r.status_code == 415

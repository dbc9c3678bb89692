"""Classification by retrieval over HTTP: classes live, predictions, errors."""

from __future__ import annotations

from dependency_injector import providers

from app.container import build_container
from app.domain.images import ImageInput
from app.infrastructure.vector_store import faiss_store
from tests.api.conftest import files, jpeg
from tests.fakes import ReadIndexFails, ThumbnailModel

RED, GREEN, BLUE = (200, 30, 30), (30, 180, 40), (30, 50, 210)


def test_add_predict_update_remove_round_trip(client):
    r = client.post("/class/add/red", files=files(jpeg(RED, 1), jpeg(RED, 2)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["examples_added"] == 2
    assert body["classes"] == ["red"] and len(body["example_ids"]) == 2
    assert client.post("/class/add/green", files=files(jpeg(GREEN, 3))).status_code == 200

    r = client.post("/predict", files={"file": ("q.jpg", jpeg(GREEN, 9), "image/jpeg")})
    assert r.status_code == 200, r.text
    assert r.json()["predicted_class"] == "green"
    assert abs(sum(r.json()["class_probabilities"].values()) - 1) < 1e-3

    r = client.post("/class/update/green?append=false", files=files(jpeg(BLUE, 4)))
    assert r.json()["examples_removed"] == 1 and r.json()["examples_added"] == 1
    r = client.post("/predict", files={"file": ("q.jpg", jpeg(BLUE, 10), "image/jpeg")})
    assert r.json()["predicted_class"] == "green"  # green's only example is blue now

    info = client.get("/model/info").json()
    assert info["classes"] == {"red": 2, "green": 1} and info["gallery_size"] == 3
    assert client.delete("/class/green").json()["classes"] == ["red"]
    assert "green" not in client.get("/model/info").json()["classes"]


def test_remove_examples_by_id(client):
    added = client.post("/class/add/red", files=files(jpeg(RED, 1), jpeg(RED, 2))).json()
    first = added["example_ids"][0]
    r = client.request("DELETE", "/examples", json=[first])
    assert r.status_code == 200 and r.json()["removed_ids"] == [first]
    assert client.get("/model/info").json()["classes"]["red"] == 1
    r = client.request("DELETE", "/examples", json=[999999])
    assert r.status_code == 404 and "999999" in r.json()["message"]


def test_error_paths(client):
    assert (
        client.post("/predict", files={"file": ("q.jpg", jpeg(RED), "image/jpeg")}).status_code
        == 409
    )
    assert client.post("/class/add/red", files=files(b"not an image")).status_code in (400, 415)
    r = client.post("/class/add/red", files=files(b"\xff\xd8\xff\xe0" + b"\0" * 50))
    assert r.status_code in (400, 415) and r.json()["status"] == "error"
    assert client.post("/class/add/red").status_code == 422  # no files
    assert client.delete("/class/nope").status_code == 404
    assert client.post("/class/update/nope", files=files(jpeg(RED))).status_code == 404
    assert client.post("/class/add/..", files=files(jpeg(RED))).status_code in (404, 422)
    assert client.post("/class/add/" + "x" * 101, files=files(jpeg(RED))).status_code == 422
    client.post("/class/add/red", files=files(jpeg(RED)))
    assert client.post("/class/add/red", files=files(jpeg(RED, 5))).status_code == 409
    r = client.post("/predict", files={"file": ("q.txt", b"hello", "image/jpeg")})
    assert r.status_code == 415 and "q.txt" in r.json()["message"]
    assert (
        client.post(
            "/predict?aggregation=bogus", files={"file": ("q.jpg", jpeg(RED), "image/jpeg")}
        ).status_code
        == 422
    )


def test_delete_examples_caps_the_list_and_the_echo(client, container):
    container.rebuild_service().run(None)
    r = client.request("DELETE", "/examples", json=list(range(1, 10_002)))
    assert r.status_code == 422 and len(r.content) < 1000, r.text
    r = client.request("DELETE", "/examples", json=list(range(100_000, 105_000)))
    assert r.status_code == 404 and len(r.content) < 1000, r.text
    assert r.json()["message"].endswith("and 4990 more")
    assert len(container.vector_store()) == 9  # nothing removed


def test_a_class_add_that_cannot_load_the_newest_index_is_a_503(
    client, settings, tmp_path, monkeypatch
):
    """Issue 17 over HTTP: another process saved a newer generation (class green) that this
    server cannot read just now. Predictions keep being served from the generation it holds; the
    class add is a 503 that changes nothing; the client's retry works once the read does."""
    assert client.post("/class/add/red", files=files(jpeg(RED, 1))).status_code == 200
    other = build_container(settings)
    other.embedding_model.override(providers.Object(ThumbnailModel()))
    photo = tmp_path / "g.jpg"
    photo.write_bytes(jpeg(GREEN, 3))
    other.gallery_service().add_class("green", ImageInput.files([photo]))
    real = faiss_store.load_faiss()
    monkeypatch.setattr(faiss_store, "load_faiss", lambda: ReadIndexFails(real))
    r = client.post("/predict", files={"file": ("q.jpg", jpeg(RED, 9), "image/jpeg")})
    assert r.status_code == 200 and r.json()["predicted_class"] == "red"
    r = client.post("/class/add/blue", files=files(jpeg(BLUE, 4)))
    assert r.status_code == 503 and r.json()["error"] == "BackendUnavailable"
    assert "Too many open files" in r.json()["message"]
    monkeypatch.setattr(faiss_store, "load_faiss", lambda: real)
    assert client.post("/class/add/blue", files=files(jpeg(BLUE, 4))).status_code == 200
    assert client.get("/model/info").json()["classes"] == {"red": 1, "green": 1, "blue": 1}

"""Feedback over HTTP: record (upload or gallery id), re-ranked search, list, stats, promote."""

from __future__ import annotations

from tests.api.conftest import jpeg

BLUE = (30, 50, 210)


def _search(client, blob: bytes, k: int = 3, data: dict | None = None) -> list[str]:
    r = client.post("/search", files={"file": ("q.jpg", blob, "image/jpeg")}, data=data or {"k": k})
    assert r.status_code == 200, r.text
    return [h["product_id"] for h in r.json()["hits"]]


def test_feedback_round_trip(client, container):
    container.rebuild_service().run(None)
    query, near = jpeg(BLUE, 1), jpeg(BLUE, 2)
    assert _search(client, near) == ["blue-dress"] * 3

    r = client.post(
        "/feedback",
        files={"file": ("q.jpg", query, "image/jpeg")},
        data={"verdict": "bad", "product_id": "blue-dress", "note": "wrong shade"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["feedback"][0]["verdict"] == "bad"
    assert "blue-dress" not in _search(client, near)

    r = client.post("/feedback", data={"verdict": "good", "query_id": 1, "image_id": 4})
    assert r.status_code == 200, r.text
    listed = client.get("/feedback").json()["feedback"]
    assert [j["verdict"] for j in listed] == ["bad", "good"]
    assert listed[0]["note"] == "wrong shade"
    one = client.get("/feedback", params={"product_id": "blue-dress"}).json()["feedback"]
    assert len(one) == 1
    stats = client.get("/feedback/stats").json()
    assert (stats["total"], stats["good"], stats["bad"]) == (2, 1, 1)

    r = client.post("/feedback/promote")
    assert r.status_code == 200 and r.json()["hard_negatives"] == 1
    assert client.delete("/feedback").json()["cleared"] == 2
    assert client.get("/feedback").json()["feedback"] == []


def test_feedback_errors(client, container):
    container.rebuild_service().run(None)
    r = client.post("/feedback", data={"verdict": "good", "product_id": "x"})
    assert r.status_code == 422 and "query" in r.json()["message"]
    r = client.post("/feedback", data={"verdict": "maybe", "query_id": 1, "product_id": "x"})
    assert r.status_code == 422
    r = client.post("/feedback", data={"verdict": "bad", "query_id": 999, "product_id": "x"})
    assert r.status_code == 404
    r = client.post("/feedback", data={"verdict": "bad", "query_id": 1})
    assert r.status_code == 422


def test_search_with_more_like_and_less_like(client, container):
    container.rebuild_service().run(None)
    ids = {r.product_id: r.id for r in container.repository().list_images()}
    near = jpeg(BLUE, 2)
    data = {"k": 3, "more_like": [ids["red-shoe"]], "less_like": [ids["blue-dress"]]}
    assert _search(client, near, data=data)[0] != "blue-dress"
    r = client.post(
        "/search", files={"file": ("q.jpg", near, "image/jpeg")}, data={"more_like": [99999]}
    )
    assert r.status_code == 404


def test_feedback_pages_and_bounded_query_copies(settings, fake_model):
    """GET /feedback pages through the verdicts; at most FEEDBACK_KEPT_QUERIES query images
    are kept (oldest deleted), while every verdict stays."""
    from dependency_injector import providers
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.container import build_container

    container = build_container(settings.model_copy(update={"feedback_kept_queries": 2}))
    container.embedding_model.override(providers.Object(fake_model))
    container.rebuild_service().run(None)
    with TestClient(create_app(container, warm_up=False)) as client:
        for seed in range(4):
            query = {"file": ("q.jpg", jpeg(BLUE, 10 + seed), "image/jpeg")}
            r = client.post("/feedback", files=query, data={"verdict": "good", "image_id": 1})
            assert r.status_code == 200, r.text
        kept = list((settings.index_dir / "feedback" / "queries").iterdir())
        assert len(kept) == 2
        pages, after = [], 0
        while after is not None:
            body = client.get("/feedback", params={"limit": 3, "after_id": after}).json()
            pages.append([j["id"] for j in body["feedback"]])
            after = body["next_after_id"]
        assert pages == [[1, 2, 3], [4]]
        assert client.get("/feedback", params={"limit": 1001}).status_code == 422
        r = client.post("/feedback/promote")
        assert r.status_code == 200 and len(r.json()["skipped"]) == 2  # copies no longer kept

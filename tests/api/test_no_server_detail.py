"""Answers show no server detail: paths relative to the catalogue / examples / feedback folder."""

from __future__ import annotations

from tests.api.conftest import jpeg

RED = (200, 30, 30)


def test_paths_in_answers_are_relative(client, container, tmp_path):
    container.rebuild_service().run(None)
    query = {"file": ("q.jpg", jpeg(RED, 1), "image/jpeg")}
    bodies = []
    r = client.post("/search", files=query, data={"k": 3})
    hit = r.json()["hits"][0]
    assert hit["path"] == f"{hit['product_id']}/{hit['path'].split('/')[-1]}", hit
    bodies.append(r)
    r = client.post("/upload", files={"file": ("u.jpg", jpeg(RED, 2))}, data={"product_id": "new"})
    assert r.status_code == 201 and r.json()["path"].startswith("new/"), r.text
    bodies.append(r)
    r = client.post("/feedback", files=query, data={"verdict": "good", "product_id": "red-shoe"})
    assert r.json()["feedback"][0]["query_image"].startswith("queries/"), r.text
    bodies.append(r)
    bodies.append(client.get("/feedback"))
    bodies.append(client.post("/feedback/promote"))
    for answer in bodies:
        assert answer.status_code in (200, 201) and str(tmp_path) not in answer.text, answer.text

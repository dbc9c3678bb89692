"""Answers that say what they did: regressions of silent surprises seen over HTTP."""

from __future__ import annotations

from tests.api.conftest import jpeg
from tests.api.test_catalogue_api import _rebuild


def _query(colour=(30, 180, 40)) -> dict:
    return {"file": ("q.jpg", jpeg(colour, 4), "image/jpeg")}


def test_search_k_as_query_parameter_or_form_field(client):
    _rebuild(client)
    assert len(client.post("/search?k=5", files=_query()).json()["hits"]) == 5
    assert len(client.post("/search", data={"k": "2"}, files=_query()).json()["hits"]) == 2
    assert len(client.post("/search?k=5", data={"k": "3"}, files=_query()).json()["hits"]) == 3
    assert client.post("/search?k=0", files=_query()).status_code == 422


def _upload(client, colour, **data) -> dict:
    r = client.post("/upload", files={"file": ("u.jpg", jpeg(colour, 9), "image/jpeg")}, data=data)
    assert r.status_code == 201, r.text
    return r.json()


def test_uploads_are_searchable_but_no_class(client):
    _rebuild(client)
    upload = _upload(client, (200, 30, 30))  # a red shoe photo, sent for search
    assert upload["product_id"] == "uploads"
    hits = client.post("/search?k=3", files=_query((200, 30, 30))).json()["hits"]
    assert upload["id"] in [h["image_id"] for h in hits]
    prediction = client.post("/predict", files=_query((200, 30, 30))).json()
    assert prediction["predicted_class"] == "red-shoe"
    assert "uploads" not in prediction["class_probabilities"]
    assert "uploads" not in client.get("/model/info").json()["classes"]
    crops = client.post(f"/segment/{upload['id']}").json()["crops"]
    assert crops and "uploads" not in client.get("/model/info").json()["classes"]


def test_upload_naming_a_class_adds_an_example(client):
    _rebuild(client)
    assert _upload(client, (90, 90, 90), product_id="mug")["product_id"] == "mug"
    assert _upload(client, (95, 95, 95), product_id="mug")["product_id"] == "mug"  # appended
    assert client.get("/model/info").json()["classes"]["mug"] == 2
    prediction = client.post("/predict", files=_query((92, 92, 92))).json()
    assert prediction["predicted_class"] == "mug"


def test_updating_with_a_photo_already_there_adds_nothing(client):
    photo = [("files", ("a.jpg", jpeg((90, 90, 90), 1), "image/jpeg"))]
    assert client.post("/class/add/mug", files=photo).json()["examples_added"] == 1
    body = client.post("/class/update/mug", files=photo).json()
    assert body["examples_added"] == 0 and body["examples_already_present"] == 1
    assert body["num_examples"] == 1 and "already present" in body["message"]
    first = client.get("/model/info").json()["examples"]["mug"]
    again = client.post("/upload", files={"file": ("a.jpg", jpeg((90, 90, 90), 1))},
                        data={"product_id": "mug"})  # fmt: skip
    assert again.status_code == 201 and [again.json()["id"]] == first

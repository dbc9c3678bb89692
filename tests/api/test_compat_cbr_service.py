"""Coming from the classification-by-retrieval service: its documented HTTP calls, sent verbatim
(the multipart and JSON bodies curl sends), through the real app, answer its documented fields.

    curl -F files=@a.jpg -F files=@b.jpg  localhost:8000/class/add/cat
    curl -F files=@x.jpg -F "append=false" localhost:8000/class/update/cat
    curl -X DELETE -H "Content-Type: application/json" -d '[3, 4]' localhost:8000/examples
"""

from __future__ import annotations

import pytest

from conftest import clothing_subset
from tests.api.conftest import jpeg

RED, GREEN, BLUE = (200, 30, 30), (30, 180, 40), (30, 50, 210)


def form_files(*named: tuple[str, bytes], field: str = "files") -> list:
    """`-F files=@a.jpg -F files=@b.jpg`: one multipart part per file, all named `files`."""
    return [(field, (name, blob, "image/jpeg")) for name, blob in named]


@pytest.fixture
def photos() -> dict[str, bytes]:
    """Real photos: two shoes, two hats, and a third shoe for queries."""
    shoes = [p for p in clothing_subset(3, "train") if p.parent.name == "shoes"]
    hats = [p for p in clothing_subset(2, "train") if p.parent.name == "hat"]
    return {f"{p.parent.name}{i}.jpg": p.read_bytes() for i, p in enumerate(shoes + hats)}


def test_add_classes_then_model_info(client, photos):
    two = form_files(("a.jpg", photos["shoes0.jpg"]), ("b.jpg", photos["shoes1.jpg"]))
    r = client.post("/class/add/cat", files=two)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "success" and body["message"] == "Added class 'cat' with 2 examples"
    assert body["num_classes"] == 1 and body["available_classes"] == ["cat"]
    assert body["examples_added"] == 2 and len(body["example_ids"]) == 2  # ours, kept
    cat_ids = body["example_ids"]
    r = client.post("/class/add/bird", files=form_files(("c.jpg", photos["hat3.jpg"])))
    assert r.json()["available_classes"] == ["bird", "cat"] and r.json()["num_classes"] == 2

    info = client.get("/model/info").json()
    assert info["num_classes"] == 2 and info["num_examples"] == 3
    assert info["available_classes"] == ["bird", "cat"]
    assert info["examples_per_class"] == {"bird": 1, "cat": 2}
    assert info["examples"]["cat"] == cat_ids and len(info["examples"]["bird"]) == 1
    assert info["classes"] == {"cat": 2, "bird": 1} and info["gallery_size"] == 3  # ours, kept


def test_update_append_as_a_form_field(client):
    first = client.post("/class/add/cat", files=form_files(("a.jpg", jpeg(RED, 1)))).json()
    r = client.post("/class/update/cat", files=form_files(("x.jpg", jpeg(RED, 2))),
                    data={"append": "true"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["num_examples"] == 2 and r.json()["message"]
    assert r.json()["examples_removed"] == 0

    r = client.post("/class/update/cat", files=form_files(("y.jpg", jpeg(BLUE, 3))),
                    data={"append": "false"})  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and body["num_examples"] == 1 and body["examples_removed"] == 2
    assert "cat" in body["message"]
    examples = client.get("/model/info").json()["examples"]["cat"]
    assert examples == body["example_ids"] and first["example_ids"][0] not in examples
    r = client.post("/predict", files={"file": ("q.jpg", jpeg(BLUE, 9), "image/jpeg")})
    assert r.json()["predicted_class"] == "cat"  # only the blue example is left

    # the query parameter still works; the same name twice with two values is refused
    r = client.post("/class/update/cat?append=false", files=form_files(("z.jpg", jpeg(GREEN, 4))))
    assert r.json()["num_examples"] == 1
    r = client.post("/class/update/cat?append=true", files=form_files(("w.jpg", jpeg(RED, 5))),
                    data={"append": "false"})  # fmt: skip
    assert r.status_code == 422 and "append" in r.json()["message"]


def test_remove_class_and_examples_by_stable_id(client):
    client.post("/class/add/cat", files=form_files(*[(f"{i}.jpg", jpeg(RED, i)) for i in range(4)]))
    client.post("/class/add/dog", files=form_files(("d.jpg", jpeg(GREEN, 7))))
    ids = client.get("/model/info").json()["examples"]["cat"]

    r = client.request("DELETE", "/examples", json=ids[:2])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message"] == "Removed 2 examples" and body["num_examples"] == 3
    assert body["removed_ids"] == ids[:2]
    assert client.get("/model/info").json()["examples"]["cat"] == ids[2:]  # not renumbered

    r = client.request("DELETE", "/examples", json=[ids[2], 987654])
    assert r.status_code == 404 and "987654" in r.json()["message"]
    assert client.get("/model/info").json()["num_examples"] == 3  # nothing removed

    r = client.delete("/class/dog")
    assert r.status_code == 200
    assert r.json()["num_classes"] == 1 and r.json()["available_classes"] == ["cat"]


def test_predict(client, photos):
    client.post("/class/add/shoe", files=form_files(("a.jpg", photos["shoes0.jpg"])))
    client.post("/class/add/hat", files=form_files(("b.jpg", photos["hat3.jpg"])))
    r = client.post("/predict", files={"file": ("q.jpg", photos["shoes0.jpg"], "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["predicted_class"] == "shoe" and 0.5 < body["confidence"] <= 1.0
    assert set(body["class_probabilities"]) == {"shoe", "hat"}
    assert body["confidence"] == pytest.approx(body["class_probabilities"]["shoe"])


def test_the_schema_documents_the_answers(client):
    schema = client.get("/openapi.json").json()
    models = schema["components"]["schemas"]

    def fields(path: str, method: str) -> set[str]:
        answer = schema["paths"][path][method]["responses"]["200"]["content"]
        ref = answer["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        return set(models[ref]["properties"])

    assert {"num_classes", "num_examples", "available_classes", "examples_per_class",
            "examples"} <= fields("/model/info", "get")  # fmt: skip
    assert {"status", "message", "num_classes", "available_classes", "num_examples"} <= fields(
        "/class/add/{name}", "post"
    )
    assert {"num_examples", "message"} <= fields("/examples", "delete")
    assert {"predicted_class", "confidence", "class_probabilities"} <= fields("/predict", "post")
    assert "stable" in schema["paths"]["/examples"]["delete"]["requestBody"]["content"][
        "application/json"]["schema"]["description"]  # fmt: skip

"""One error shape for every status, in the schema, with messages for an HTTP caller."""

from __future__ import annotations

import pytest

from tests.api.conftest import files, jpeg

SHAPE = {"status", "code", "error", "message"}


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= SHAPE and body["status"] == "error" and body["code"] == status
    assert body["message"] and body["error"]
    return body


def test_every_status_has_the_same_shape(client):
    red = jpeg((200, 30, 30))
    assert client.post("/class/add/shoes", files=files(red)).status_code == 200
    _error(client.delete("/class/no-such-class"), 404)
    _error(client.post("/class/add/shoes", files=files(red)), 409)
    _error(client.post("/predict", files={"file": ("x.jpg", b"plain text", "image/jpeg")}), 415)
    body = _error(client.post("/search", data={"k": "0"}, files={"file": ("q.jpg", red)}), 422)
    assert body["error"] == "InvalidInput" and "k" in body["message"]
    _error(client.get("/jobs/nope"), 404)
    assert _error(client.get("/no-such-route"), 404)["error"] == "NotFound"


def test_conflict_tells_an_http_client_what_to_call(client):
    red = jpeg((200, 30, 30))
    client.post("/class/add/shoes", files=files(red))
    message = client.post("/class/add/shoes", files=files(red)).json()["message"]
    assert "POST /class/update/shoes" in message and "append=false" in message
    assert "FILES..." not in message and "--replace" not in message


@pytest.mark.parametrize("path", ["/class/add/{name}", "/search", "/predict"])
def test_schema_documents_the_error_body(client, path):
    schema = client.get("/openapi.json").json()
    operation = schema["paths"][path]["post"]
    for status in ("404", "409", "422"):
        ref = operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody")
    assert set(schema["components"]["schemas"]["ErrorBody"]["properties"]) == SHAPE

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

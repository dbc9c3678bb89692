"""GET /duplicates and the focused-search fields of POST /search over the real app."""

from __future__ import annotations

import shutil

from tests.api.conftest import jpeg
from tests.api.test_catalogue_api import _rebuild


def test_duplicates_lists_the_planted_conflict_first(client, catalogue):
    copy = catalogue / "green-hat" / "copy-of-shoe.jpg"
    shutil.copyfile(catalogue / "red-shoe" / "view0.jpg", copy)
    assert _rebuild(client)["status"] == "done"
    r = client.get("/duplicates", params={"conflicts_only": "true"})
    assert r.status_code == 200, r.text
    [group] = r.json()["groups"]  # the fake model also joins the other red-shoe photos to it
    assert group["conflict"] is True
    names = {i["path"].rsplit("/", 1)[1]: i for i in group["images"]}
    assert names["copy-of-shoe.jpg"]["product_id"] == "green-hat"
    assert names["view0.jpg"]["product_id"] == "red-shoe"
    assert set(names["view0.jpg"]) == {"image_id", "path", "product_id"}
    pair = sorted([names["view0.jpg"]["image_id"], names["copy-of-shoe.jpg"]["image_id"]])
    assert [*pair, 1.0] in group["pairs"]  # byte-identical
    everything = client.get("/duplicates", params={"threshold": 0.0}).json()["groups"]
    assert everything[0]["conflict"] is True
    sims = [g["similarity"] for g in everything if g["conflict"]]
    assert sims == sorted(sims, reverse=True)
    assert client.get("/duplicates", params={"threshold": 2}).status_code == 422


def test_search_filters_distinct_and_cut_off(client):
    _rebuild(client)
    query = {"file": ("q.jpg", jpeg((30, 180, 40), 4), "image/jpeg")}
    r = client.post("/search", files=query, data={"k": "3", "products": ["blue-dress"]})
    assert r.status_code == 200, r.text
    assert [h["product_id"] for h in r.json()["hits"]] == ["blue-dress"] * 3
    r = client.post("/search", files=query, data={"k": "3", "distinct_products": "true"})
    assert sorted(h["product_id"] for h in r.json()["hits"]) == [
        "blue-dress",
        "green-hat",
        "red-shoe",
    ]
    r = client.post("/search", files=query, data={"k": "9", "exclude_products": ["green-hat"]})
    assert len(r.json()["hits"]) == 6
    r = client.post("/search", files=query, data={"k": "9", "relative": "0"})
    assert len(r.json()["hits"]) + r.json()["cut"] == 9 and r.json()["cut"] >= 6


def test_duplicates_answer_is_documented_and_names_no_server_path(client, catalogue):
    shutil.copyfile(catalogue / "red-shoe" / "view0.jpg", catalogue / "green-hat" / "copy.jpg")
    _rebuild(client)
    groups = client.get("/duplicates").json()["groups"]
    paths = [i["path"] for g in groups for i in g["images"]]
    assert paths and not any(p.startswith("/") or str(catalogue) in p for p in paths)
    assert "green-hat/copy.jpg" in paths
    schema = client.get("/openapi.json").json()
    answer = schema["paths"]["/duplicates"]["get"]["responses"]["200"]["content"]
    assert answer["application/json"]["schema"]["$ref"].endswith("/DuplicatesResponse")

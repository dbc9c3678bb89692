"""Coming from the image search engine: its documented HTTP calls, sent verbatim, through the
real app.

    ID=$(curl -F file=@x.jpg localhost:8000/upload | jq .id)
    curl -X POST localhost:8000/segment/${ID} -H "Content-Type: application/json" \
         -d '{"mode": "quick"}'
    curl -F file=@x.jpg localhost:8000/search
    /docs  /redoc  /openapi.json  /metrics
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from conftest import clothing_subset

JSON = {"Content-Type": "application/json"}


def two_objects() -> bytes:
    canvas = np.full((120, 200, 3), 240, dtype=np.uint8)
    canvas[20:100, 15:75] = (200, 30, 30)
    canvas[30:90, 120:185] = (30, 50, 210)
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, format="PNG")
    return out.getvalue()


def upload(client, name: str, blob: bytes) -> int:
    r = client.post("/upload", files={"file": (name, blob, "image/jpeg")})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "success"
    return r.json()["id"]


def test_upload_then_segment_with_a_json_body(client):
    image_id = upload(client, "x.png", two_objects())
    r = client.post(f"/segment/{image_id}", headers=JSON, content=json.dumps({"mode": "quick"}))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["parent_id"] == image_id and body["mode"] == "quick" and len(body["crops"]) == 2


@pytest.mark.parametrize("mode", ["no-such-mode", "", 3])
def test_an_invalid_mode_in_the_body_is_422(client, mode):
    image_id = upload(client, "x.png", two_objects())
    r = client.post(f"/segment/{image_id}", headers=JSON, content=json.dumps({"mode": mode}))
    assert r.status_code == 422 and "mode" in r.json()["message"]
    assert client.get("/model/info").json()["gallery_size"] == 1  # nothing was cut


def test_the_body_mode_is_used(client):
    """`accurate` needs the rembg model: asked for in the body, that is what runs (503 here)."""
    image_id = upload(client, "x.png", two_objects())
    r = client.post(f"/segment/{image_id}", headers=JSON, content=json.dumps({"mode": "accurate"}))
    assert r.status_code == 503 and "USE_BG_REMOVAL" in r.json()["message"]
    r = client.post(f"/segment/{image_id}?mode=quick", json={"mode": "accurate"})
    assert r.status_code == 422 and "mode given twice" in r.json()["message"]


def test_upload_then_search_with_a_real_photo(client):
    photos = clothing_subset(1, "train")[:3]
    ids = [upload(client, p.name, p.read_bytes()) for p in photos]
    r = client.post("/search", files={"file": ("x.jpg", photos[1].read_bytes(), "image/jpeg")})
    assert r.status_code == 200, r.text
    top = r.json()["hits"][0]
    assert top["image_id"] == ids[1] and top["score"] == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/docs", "text/html"), ("/redoc", "text/html"), ("/openapi.json", "application/json"),
     ("/metrics", "text/plain")],
)  # fmt: skip
def test_documented_pages(client, path, kind):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith(kind)


def test_the_schema_documents_upload_and_segment(client):
    schema = client.get("/openapi.json").json()
    segment = schema["paths"]["/segment/{image_id}"]["post"]
    assert "requestBody" in segment  # the JSON body, beside the query parameter
    models = schema["components"]["schemas"]
    ref = models["SegmentRequest"]["properties"]["mode"]["$ref"].rsplit("/", 1)[-1]
    assert models[ref]["enum"] == ["quick", "accurate", "detector"]
    assert {"id", "product_id", "path"} <= set(models["Uploaded"]["properties"])
    assert {"parent_id", "crops"} <= set(models["Segmented"]["properties"])

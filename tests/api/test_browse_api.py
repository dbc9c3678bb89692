"""What the web page reads: thumbnails by id (never by path), image lists, stats, jobs, and the
documented answers (response models) and offline docs."""

from __future__ import annotations

import io
import re

from PIL import Image

from app.domain.models import ImageRecord
from tests.api.conftest import files, jpeg
from tests.api.test_catalogue_api import _rebuild


def _first_id(client, product: str = "red-shoe") -> int:
    return client.get("/images", params={"product_id": product}).json()["images"][0]["id"]


def test_thumbnail_is_a_small_cached_jpeg(client):
    _rebuild(client)
    image_id = _first_id(client)
    r = client.get(f"/images/{image_id}/thumbnail", params={"size": 32})
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(r.content))
    assert img.format == "JPEG" and max(img.size) == 32  # 64x48 photo, aspect kept
    assert img.size == (32, 24)
    assert "max-age" in r.headers["cache-control"]
    etag = r.headers["etag"]

    cached = {"If-None-Match": etag}
    again = client.get(f"/images/{image_id}/thumbnail?size=32", headers=cached)
    assert again.status_code == 304 and again.content == b""
    other_size = client.get(f"/images/{image_id}/thumbnail?size=48", headers=cached)
    assert other_size.status_code == 200 and other_size.headers["etag"] != etag


def test_thumbnail_unknown_or_outside_the_gallery_is_404(client, container, tmp_path):
    _rebuild(client)
    assert client.get("/images/999999/thumbnail").status_code == 404
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(jpeg((1, 2, 3)))
    (row,) = container.repository().upsert_images(
        [ImageRecord(str(secret), "red-shoe", "abc", secret.stat().st_size)]
    )
    r = client.get(f"/images/{row.id}/thumbnail")
    assert r.status_code == 404 and "no image with id" in r.json()["message"]
    assert client.get("/images/0/thumbnail").status_code == 422
    assert client.get("/images/1/thumbnail?size=5000").status_code == 422


def test_example_thumbnails_and_class_listing(client):
    added = client.post("/class/add/mug", files=files(jpeg((90, 60, 20), 1), jpeg((90, 60, 20), 2)))
    assert added.status_code == 200, added.text
    page = client.get("/images", params={"product_id": "mug", "limit": 1}).json()
    assert page["total"] == 2 and len(page["images"]) == 1
    (image,) = page["images"]
    assert image["source"] == "example" and image["product_id"] == "mug"
    thumb = client.get(image["thumbnail"])
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).width > 0
    assert client.get("/images", params={"product_id": "nope"}).json() == {
        "total": 0,
        "images": [],
    }


def test_stats_and_last_rebuild_job(client):
    assert client.get("/jobs", params={"kind": "rebuild"}).json() == {"jobs": []}
    job = _rebuild(client)
    stats = client.get("/stats").json()
    assert stats["images"] == 9 and stats["products"] == 3
    assert stats["index"]["size"] == 9 and stats["index"]["kind"]
    assert stats["text_search"] is False and stats["model_stamp"].startswith("thumbnail-8")
    assert stats["last_rebuild"] is not None
    (last,) = client.get("/jobs", params={"kind": "rebuild", "limit": 1}).json()["jobs"]
    assert last["id"] == job["id"] and last["result"]["embedded"] == 9


def test_text_search_flag_follows_the_model(classify_container):
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with TestClient(create_app(classify_container, warm_up=False)) as c:
        assert c.get("/stats").json()["text_search"] is True


def test_schema_documents_the_answers(client):
    schema = client.get("/openapi.json").json()
    paths, models = schema["paths"], schema["components"]["schemas"]

    def answer(path: str, method: str, code: str = "200") -> dict:
        content = paths[path][method]["responses"][code]["content"]["application/json"]
        return models[content["schema"]["$ref"].rsplit("/", 1)[-1]]

    assert set(answer("/search", "post")["properties"]) >= {"query", "hits"}
    assert "progress" in answer("/jobs/{job_id}", "get")["properties"]
    assert "job_id" in answer("/rebuild", "post", "202")["properties"]
    assert "index" in answer("/stats", "get")["properties"]
    assert "model_loaded" in answer("/health", "get")["properties"]
    assert "feedback" in answer("/feedback", "get")["properties"]
    assert "most_disputed" in answer("/feedback/stats", "get")["properties"]
    assert "promoted" in answer("/feedback/promote", "post")["properties"]
    thumb = paths["/images/{image_id}/thumbnail"]["get"]["responses"]["200"]["content"]
    assert "image/jpeg" in thumb


def test_docs_and_redoc_need_no_internet(client):
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert not re.search(r"(src|href)=[\"']https?://", html), page
        assets = re.findall(r"(?:src|href)=[\"'](/[^\"']+)", html)
        assert assets, page
        for url in assets:
            assert client.get(url).status_code == 200, url


def test_web_page_and_its_assets_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for url in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", page.text):
        assert client.get(url).status_code == 200, url
    script = client.get("/static/main.js")
    assert "javascript" in script.headers["content-type"]
    assert "/" not in client.get("/openapi.json").json()["paths"]

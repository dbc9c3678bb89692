"""Object crops: an uploaded photo with two objects gives two crops, indexed with their parent
id and box, and a search with one object finds its crop (with the box) first."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.api.conftest import jpeg


def _two_objects() -> bytes:
    canvas = np.full((120, 200, 3), 240, dtype=np.uint8)  # plain light background
    canvas[20:100, 15:75] = (200, 30, 30)  # a red object on the left
    canvas[30:90, 120:185] = (30, 50, 210)  # a blue object on the right
    out = io.BytesIO()
    Image.fromarray(canvas).save(out, format="PNG")
    return out.getvalue()


def test_upload_segment_then_search_finds_the_crop(client):
    r = client.post("/upload", files={"file": ("pair.png", _two_objects(), "image/png")},
                    data={"product_id": "outfit"})  # fmt: skip
    parent = r.json()["id"]
    r = client.post(f"/segment/{parent}")
    assert r.status_code == 201, r.text
    crops = r.json()["crops"]
    assert len(crops) == 2 and {c["product_id"] for c in crops} == {"outfit"}
    boxes = sorted(tuple(c["box"]) for c in crops)
    left, right = boxes
    assert abs(left[0] - 15) <= 4 and abs(left[2] - 75) <= 4 and abs(left[1] - 20) <= 4
    assert abs(right[0] - 120) <= 4 and abs(right[2] - 185) <= 4

    blue = np.full((60, 65, 3), (30, 50, 210), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(blue).save(out, format="PNG")
    r = client.post("/search", files={"file": ("b.png", out.getvalue(), "image/png")})
    top = r.json()["hits"][0]
    assert top["parent_id"] == parent and tuple(top["box"]) == right


def test_segment_errors(client):
    assert client.post("/segment/424242").status_code == 404
    assert client.post("/segment/0").status_code == 422
    r = client.post("/upload", files={"file": ("x.jpg", jpeg((1, 2, 3)), "image/jpeg")})
    assert client.post(f"/segment/{r.json()['id']}?mode=bogus").status_code == 422


def test_accurate_mode_uses_the_background_removal_model(client, container, tmp_path):
    """mode=accurate takes rembg's mask (a tiny local ONNX model here, the real session path)."""
    from dependency_injector import providers

    from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor
    from tests.infrastructure.preprocessing._images import build_red_saliency_model

    model = build_red_saliency_model(tmp_path / "u2net-red.onnx")
    container.rembg_preprocessor.override(
        providers.Object(RembgPreprocessor(container.preprocess_options(), "u2net_custom", model))
    )
    r = client.post("/upload", files={"file": ("pair.png", _two_objects(), "image/png")},
                    data={"product_id": "outfit"})  # fmt: skip
    r = client.post(f"/segment/{r.json()['id']}?mode=accurate")
    assert r.status_code == 201, r.text
    (crop,) = r.json()["crops"]  # the model only sees red: one object, the left one
    x0, y0, x1, y1 = crop["box"]
    assert abs(x0 - 15) <= 6 and abs(x1 - 75) <= 6 and abs(y0 - 20) <= 6 and abs(y1 - 100) <= 6


def test_accurate_mode_without_a_model_is_503_naming_the_setting(client, tmp_path, monkeypatch):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "empty"))
    monkeypatch.setattr("pooch.retrieve", _no_download, raising=False)
    r = client.post("/upload", files={"file": ("pair.png", _two_objects(), "image/png")})
    r = client.post(f"/segment/{r.json()['id']}?mode=accurate")
    assert r.status_code == 503 and "USE_BG_REMOVAL" in r.json()["message"]


def _no_download(*args, **kwargs):
    raise ConnectionError("tests never download")


def test_detector_mode_crops_with_the_open_vocabulary_model(settings, fake_model, tiny_owl_dir):
    """mode=detector runs the OWLv2 named by DETECTOR_MODEL (a tiny random one here)."""
    from dependency_injector import providers
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.container import build_container

    container = build_container(settings.model_copy(update={"detector_model": str(tiny_owl_dir)}))
    container.embedding_model.override(providers.Object(fake_model))
    with TestClient(create_app(container, warm_up=False)) as client:
        r = client.post("/upload", files={"file": ("pair.png", _two_objects(), "image/png")},
                        data={"product_id": "outfit"})  # fmt: skip
        r = client.post(f"/segment/{r.json()['id']}?mode=detector")
        assert r.status_code == 201, r.text
        crops = r.json()["crops"]
        assert 1 <= len(crops) <= 10 and {c["product_id"] for c in crops} == {"outfit"}
        for crop in crops:
            x0, y0, x1, y1 = crop["box"]
            assert 0 <= x0 < x1 <= 200 and 0 <= y0 < y1 <= 120


def test_detector_mode_without_a_model_names_the_setting(client):
    r = client.post("/upload", files={"file": ("pair.png", _two_objects(), "image/png")})
    r = client.post(f"/segment/{r.json()['id']}?mode=detector")
    assert r.status_code == 503 and "DETECTOR_MODEL" in r.json()["message"]

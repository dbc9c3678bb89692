"""One request's images are capped by their total declared pixels, read from headers before
anything is decoded (a few KB can declare tens of megapixels)."""

from __future__ import annotations

from dependency_injector import providers
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.container import build_container
from tests.api.conftest import jpeg
from tests.infrastructure.preprocessing._images import png_declaring


def test_total_pixels_per_request_are_capped_before_decoding(settings, fake_model):
    container = build_container(settings.model_copy(update={"max_request_pixels": 30_000_000}))
    container.embedding_model.override(providers.Object(fake_model))
    container.rebuild_service().run(None)
    big = png_declaring(4000, 4000)  # 16 Mpx declared, a few bytes of data
    assert len(big) < 200
    with TestClient(create_app(container, warm_up=False)) as client:
        files = [("files", (f"{i}.png", big, "image/png")) for i in range(2)]
        r = client.post("/class/add/bombs", files=files)
        assert r.status_code == 413, r.text
        assert "2 images declare 32000000 pixels together > limit 30000000" in r.json()["message"]
        assert "MAX_REQUEST_PIXELS" in r.json()["message"]
        small = [("files", (f"{i}.jpg", jpeg((200, 30, 30), i), "image/jpeg")) for i in range(3)]
        assert client.post("/class/add/reds", files=small).status_code == 200
    assert not (settings.examples_dir / "bombs").exists()

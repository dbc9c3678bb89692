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


def test_uploads_over_the_spool_size_wait_on_disk_and_answer_the_same(
    settings, fake_model, monkeypatch
):
    """UPLOAD_SPOOL_BYTES: a larger upload is written to a temporary file while the request
    arrives and the service reads it from there when it decodes it: the same answers."""
    import tempfile

    rolled, rollover = [], tempfile.SpooledTemporaryFile.rollover

    def spy_rollover(self):
        rolled.append(self)
        rollover(self)

    monkeypatch.setattr(tempfile.SpooledTemporaryFile, "rollover", spy_rollover)
    files = [("files", (f"{i}.jpg", jpeg((200, 30, 30), i), "image/jpeg")) for i in range(3)]
    answers = {}
    for spool in (1024 * 1024, 1024):
        container = build_container(settings.model_copy(update={"upload_spool_bytes": spool}))
        container.embedding_model.override(providers.Object(fake_model))
        container.rebuild_service().run(None)
        with TestClient(create_app(container, warm_up=False)) as client:
            r = client.post("/classify", files=files)
        assert r.status_code == 200, r.text
        answers[spool] = [(a["image"], a["retrieval"]) for a in r.json()["results"]]
        assert len(rolled) == (0 if spool > 1024 else 3)  # each jpeg is over 1 KB
    assert answers[1024] == answers[1024 * 1024] and len(answers[1024]) == 3

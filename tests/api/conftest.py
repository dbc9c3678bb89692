from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.api.main import create_app


@pytest.fixture
def client(container):
    """The real app over the real container (SQLite, FAISS, preprocessing; fake network)."""
    with TestClient(create_app(container, warm_up=False)) as c:
        yield c


def jpeg(colour: tuple[int, int, int], seed: int = 0, size=(64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    canvas = np.full((size[1], size[0], 3), 235, dtype=np.int16)
    canvas[8:40, 12:52] = colour
    canvas += rng.integers(-12, 12, canvas.shape, dtype=np.int16)
    out = io.BytesIO()
    Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).save(out, format="JPEG")
    return out.getvalue()


def files(*blobs: bytes, name: str = "img.jpg") -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"{i}-{name}", blob, "image/jpeg")) for i, blob in enumerate(blobs)]

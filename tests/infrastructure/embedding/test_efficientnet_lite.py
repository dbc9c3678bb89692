"""EfficientNet-Lite0 with its packaged ImageNet weights, on real photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.domain.errors import UnsupportedOperation
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding


@pytest.fixture(scope="module")
def model() -> EfficientNetLiteEmbedding:
    return EfficientNetLiteEmbedding()


def test_identity() -> None:
    model = EfficientNetLiteEmbedding()
    assert model.model_id == "efficientnet-lite0"
    assert model.stamp == "efficientnet-lite0:s256c224"
    assert model.dim == 1280
    assert not model.supports_text


def test_to_pixels_resizes_crops_and_scales(model: EfficientNetLiteEmbedding) -> None:
    pixels = model.to_pixels(Image.new("RGB", (400, 300), (255, 127, 0)))
    assert pixels.shape == (3, 224, 224)
    assert pixels.dtype == np.float32
    np.testing.assert_allclose(pixels[:, 100, 100], [1.0, 0.0, -127 / 128], atol=1e-6)
    assert model.to_pixels(Image.new("L", (224, 500))).shape == (3, 224, 224)


def test_photo_embeddings(model: EfficientNetLiteEmbedding, photos: dict[str, Image.Image]) -> None:
    names = list(photos)
    flipped = [ImageOps.mirror(photos[name]) for name in names]
    vectors = model.embed_images([photos[name] for name in names] + flipped)
    assert vectors.shape == (2 * len(names), 1280)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similarity = vectors @ vectors.T
    count = len(names)
    for i in range(count):
        mirror = similarity[i, count + i]
        others = [similarity[i, j] for j in range(count) if j != i]
        assert mirror > max(others) + 0.3, (names[i], mirror, others)


def test_loads_lazily_and_unloads(photos: dict[str, Image.Image]) -> None:
    model = EfficientNetLiteEmbedding()
    assert not model.is_loaded
    first = model.embed_images([photos["coffee"]])
    assert model.is_loaded
    model.unload()
    assert not model.is_loaded
    np.testing.assert_allclose(model.embed_images([photos["coffee"]]), first, atol=1e-5)


def test_empty_batch(model: EfficientNetLiteEmbedding) -> None:
    assert model.embed_images([]).shape == (0, 1280)


def test_text_is_unsupported(model: EfficientNetLiteEmbedding) -> None:
    with pytest.raises(UnsupportedOperation, match="EMBEDDING_MODEL=openai/clip-vit-base-patch32"):
        model.embed_texts(["a cup of coffee"])


def test_concurrent_first_use_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app.infrastructure.embedding import efficientnet_lite

    loads: list[str] = []
    real_load = efficientnet_lite._load_model

    def counting_load(device: str) -> object:
        loads.append(device)
        return real_load(device)

    monkeypatch.setattr(efficientnet_lite, "_load_model", counting_load)
    model = EfficientNetLiteEmbedding()
    image = Image.new("RGB", (224, 224), (10, 120, 200))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: model.embed_images([image]), range(4)))
    assert loads == ["cpu"]
    for result in results[1:]:
        np.testing.assert_allclose(result, results[0], atol=1e-5)

"""EfficientNet-Lite0 with its packaged ImageNet weights, on real photos."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.domain.errors import BackendUnavailable, UnsupportedOperation
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
from app.infrastructure.embedding.resolver import create_embedding_model


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

    def counting_load(model_id: str, device: str) -> object:
        loads.append(device)
        return real_load(model_id, device)

    monkeypatch.setattr(efficientnet_lite, "_load_model", counting_load)
    model = EfficientNetLiteEmbedding()
    image = Image.new("RGB", (224, 224), (10, 120, 200))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: model.embed_images([image]), range(4)))
    assert loads == ["cpu"]
    for result in results[1:]:
        np.testing.assert_allclose(result, results[0], atol=1e-5)


@pytest.mark.parametrize(
    ("name", "side"), [("efficientnet-lite1", 240), ("efficientnet-lite2", 260)]
)
def test_larger_variants_load_their_packaged_weights(
    name: str, side: int, photos: dict[str, Image.Image], tmp_path
) -> None:
    model = create_embedding_model(name.upper(), "cpu", 0, tmp_path)  # names are case-blind
    assert isinstance(model, EfficientNetLiteEmbedding)
    assert model.model_id == name and model.stamp == f"{name}:s{side + 32}c{side}"
    assert model.to_pixels(photos["coffee"]).shape == (3, side, side)
    vectors = model.embed_images([photos["coffee"], ImageOps.mirror(photos["coffee"])])
    assert vectors.shape == (2, 1280)
    lite0 = EfficientNetLiteEmbedding().embed_images([photos["coffee"]])
    assert float(vectors[0] @ vectors[1]) > 0.8  # the same photo mirrored
    assert float(vectors[0] @ lite0[0]) < 0.99  # other weights, not Lite0 again


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(BackendUnavailable, match="efficientnet-lite9"):
        EfficientNetLiteEmbedding(model_id="efficientnet-lite9")

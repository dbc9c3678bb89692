"""The EmbeddingModel contract (app/interfaces/embedding.py), run against every implementation:
the packaged EfficientNet-Lite0, tiny Hugging Face CLIP and ResNet models, a fine-tuned
checkpoint, the ONNX Runtime and micro-batching wrappers, and the test fakes the service tests
rely on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.domain.errors import UnsupportedOperation
from app.infrastructure.embedding.batching import MicroBatchingEmbedding
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
from app.infrastructure.embedding.finetuned import FineTunedEmbedding, build_embedding_net
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from app.infrastructure.embedding.onnx_model import with_runtime
from tests.fakes import ColourWordsModel, ThumbnailModel

Maker = Callable[[pytest.FixtureRequest, Path], object]


def _finetuned(request: pytest.FixtureRequest, tmp: Path) -> object:
    net = build_embedding_net(str(request.getfixturevalue("tiny_resnet_dir")), 8).eval()
    torch.save({**net.export(), "epoch": 1}, tmp / "best_model.pt")
    return FineTunedEmbedding(tmp / "best_model.pt")


def _onnx(request: pytest.FixtureRequest, tmp: Path) -> object:
    inner = HFEmbeddingModel(str(request.getfixturevalue("tiny_clip_dir")))
    return with_runtime(inner, "onnx", "cpu", tmp / "onnx")


MODELS: dict[str, Maker] = {
    "efficientnet-lite0": lambda request, tmp: EfficientNetLiteEmbedding(),
    "hf-clip": lambda r, tmp: HFEmbeddingModel(str(r.getfixturevalue("tiny_clip_dir"))),
    "hf-resnet": lambda r, tmp: HFEmbeddingModel(str(r.getfixturevalue("tiny_resnet_dir"))),
    "fine-tuned": _finetuned,
    "onnx-runtime": _onnx,
    "micro-batching": lambda r, tmp: MicroBatchingEmbedding(
        HFEmbeddingModel(str(r.getfixturevalue("tiny_resnet_dir")))
    ),
    "fake-thumbnail": lambda request, tmp: ThumbnailModel(),
    "fake-colour-words": lambda request, tmp: ColourWordsModel(),
}


@pytest.fixture(params=list(MODELS))
def model(request: pytest.FixtureRequest, tmp_path: Path):
    return MODELS[request.param](request, tmp_path)


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(7)
    return [Image.fromarray(rng.integers(0, 256, (36, 44, 3), dtype=np.uint8)) for _ in range(3)]


def _unit_rows(vectors: np.ndarray, count: int) -> None:
    assert vectors.dtype == np.float32 and vectors.shape[0] == count and vectors.shape[1] > 0
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_identity_and_lazy_construction(model):
    assert model.model_id and model.model_id.lower() != "auto"
    assert isinstance(model.stamp, str) and model.stamp
    assert not model.is_loaded  # construction is cheap: weights load on first use


def test_images_embed_to_unit_rows_the_same_way_every_time(model):
    images = _images()
    first = model.embed_images(images)
    _unit_rows(first, len(images))
    assert model.is_loaded
    np.testing.assert_allclose(model.embed_images(images[::-1])[::-1], first, atol=1e-4)
    pixels = np.stack([model.to_pixels(i) for i in images])
    np.testing.assert_allclose(model.embed_pixels(pixels), first, atol=1e-4)


def test_texts_embed_or_are_refused(model):
    if model.supports_text:
        _unit_rows(np.asarray(model.embed_texts(["a red shoe", "a hat"]), np.float32), 2)
    else:
        with pytest.raises(UnsupportedOperation):
            model.embed_texts(["a red shoe"])


def test_unload_frees_and_the_next_call_loads_again(model):
    image = _images()[:1]
    before = model.embed_images(image)
    model.unload()
    assert not model.is_loaded
    np.testing.assert_allclose(model.embed_images(image), before, atol=1e-4)

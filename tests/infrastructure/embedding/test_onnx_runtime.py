"""INFERENCE_RUNTIME: verified, cached ONNX exports agree with torch on real photos and texts."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.infrastructure.embedding import onnx_export
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
from app.infrastructure.embedding.finetuned import FineTunedEmbedding, build_embedding_net
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from app.infrastructure.embedding.onnx_model import OnnxEmbedding, with_runtime
from conftest import CLOTHING
from tests.infrastructure.embedding.tiny_models import build_tiny_resnet

pytestmark = pytest.mark.skipif(not CLOTHING.is_dir(), reason=f"{CLOTHING} is absent")


def _photos(count: int = 6) -> list[Image.Image]:
    paths = sorted((CLOTHING / "test").glob("*/*.jpg"))[::40][:count]
    return [Image.open(path).convert("RGB") for path in paths]


def _agree(expected: np.ndarray, got: np.ndarray) -> None:
    assert got.shape == expected.shape and got.dtype == np.float32
    assert float(np.sum(expected * got, axis=1).min()) >= 0.9999


def _onnx(model, cache: Path) -> OnnxEmbedding:
    wrapped = with_runtime(model, "onnx", "cpu", cache)
    assert isinstance(wrapped, OnnxEmbedding)
    return wrapped


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


def test_efficientnet_export_agrees_is_cached_and_a_corrupt_file_is_rebuilt(cache: Path) -> None:
    photos = _photos()
    expected = EfficientNetLiteEmbedding().embed_images(photos)
    first = _onnx(EfficientNetLiteEmbedding(), cache)
    _agree(expected, first.embed_images(photos))
    assert first.runtime == "onnx" and first.stamp == EfficientNetLiteEmbedding.stamp
    (graph,) = cache.glob("efficientnet-lite0*.onnx")
    exported = graph.stat().st_mtime_ns

    second = _onnx(EfficientNetLiteEmbedding(), cache)  # a second start: loads the cached file
    _agree(expected, second.embed_images(photos))
    assert graph.stat().st_mtime_ns == exported
    assert not second.inner.is_loaded  # no torch weights were needed

    graph.write_bytes(graph.read_bytes()[: graph.stat().st_size // 2])  # truncated
    third = _onnx(EfficientNetLiteEmbedding(), cache)
    _agree(expected, third.embed_images(photos))
    assert third.runtime == "onnx" and graph.stat().st_mtime_ns != exported
    assert len(list(cache.glob("efficientnet-lite0*"))) == 2  # one graph, one record


def test_fine_tuned_checkpoint_exports(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = build_embedding_net(str(tiny_resnet_dir), embedding_dim=8, image_size=32)
    path = tmp_path / "best_model.pt"
    torch.save(net.export(), path)
    photos = _photos()
    expected = FineTunedEmbedding(path).embed_images(photos)
    model = _onnx(FineTunedEmbedding(path), tmp_path / "onnx")
    _agree(expected, model.embed_images(photos))
    assert model.runtime == "onnx" and model.dim == 8


def test_tiny_clip_image_and_text_towers_export(tiny_clip_dir: Path, tmp_path: Path) -> None:
    photos = _photos()
    texts = ["a red shoe", "a long blue summer dress with white flowers", "hat"]
    torch_model = HFEmbeddingModel(str(tiny_clip_dir))
    model = _onnx(HFEmbeddingModel(str(tiny_clip_dir)), tmp_path)
    _agree(torch_model.embed_images(photos), model.embed_images(photos))
    _agree(torch_model.embed_texts(texts), model.embed_texts(texts))
    _agree(torch_model.embed_texts(texts[1:2]), model.embed_texts(texts[1:2]))
    assert len(list(tmp_path.glob("*.onnx"))) == 2  # image tower and text tower


def test_a_changed_model_gets_a_new_export(tmp_path: Path) -> None:
    folder = build_tiny_resnet(tmp_path / "resnet", seed=0)
    photos = _photos(3)
    model = _onnx(HFEmbeddingModel(str(folder)), tmp_path / "onnx")
    before = model.embed_images(photos)
    build_tiny_resnet(folder, seed=1)  # retrained in place: same name, new weights
    changed = _onnx(HFEmbeddingModel(str(folder)), tmp_path / "onnx")
    after = changed.embed_images(photos)
    _agree(HFEmbeddingModel(str(folder)).embed_images(photos), after)
    assert not np.allclose(before, after, atol=1e-3)
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 2


def test_a_refused_export_falls_back_to_torch_once(
    tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    monkeypatch.setattr("app.infrastructure.embedding.onnx_model.MIN_COSINE", 1.01)
    photos = _photos(3)
    caplog.set_level(logging.WARNING, logger="app.embedding")
    model = _onnx(HFEmbeddingModel(str(tiny_resnet_dir)), tmp_path)
    _agree(HFEmbeddingModel(str(tiny_resnet_dir)).embed_images(photos), model.embed_images(photos))
    assert model.runtime == "torch"
    (warning,) = [r.getMessage() for r in caplog.records if "converting" not in r.getMessage()]
    assert "ONNX export refused" in warning and "using torch" in warning
    assert not list(tmp_path.glob("*.onnx"))
    again = _onnx(HFEmbeddingModel(str(tiny_resnet_dir)), tmp_path)
    assert again.runtime == "torch"  # the refusal is remembered: no second export attempt


def test_runtime_choice(tiny_resnet_dir: Path, tmp_path: Path) -> None:
    model = HFEmbeddingModel(str(tiny_resnet_dir))
    assert with_runtime(model, "torch", "cpu", tmp_path) is model
    assert with_runtime(model, "auto", "cuda", tmp_path) is model  # CUDA: torch
    assert isinstance(with_runtime(model, "auto", "cpu", tmp_path), OnnxEmbedding)
    assert onnx_export.MIN_COSINE == 0.9999

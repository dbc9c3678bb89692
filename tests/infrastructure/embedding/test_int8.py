"""INFERENCE_PRECISION=int8: the ONNX image graph quantised on the user's photos, cached, stamped
apart from fp32; refused clearly where it cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import ConfigError
from app.infrastructure.embedding import int8
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from app.infrastructure.embedding.int8 import Int8Embedding, with_precision
from app.infrastructure.embedding.onnx_model import with_runtime
from conftest import CLOTHING

pytestmark = pytest.mark.skipif(not CLOTHING.is_dir(), reason=f"{CLOTHING} is absent")


def _photos(count: int, offset: int = 0) -> list[Image.Image]:
    paths = sorted((CLOTHING / "train").glob("*/*.jpg"))[offset::97][:count]
    return [Image.open(path).convert("RGB") for path in paths]


def _int8(folder: Path, cache: Path, calibrated: list[int]) -> Int8Embedding:
    def calibration() -> list[Image.Image]:
        calibrated.append(1)
        return _photos(16)

    onnx = with_runtime(HFEmbeddingModel(str(folder)), "onnx", "cpu", cache)
    model = with_precision(onnx, "int8", calibration)
    assert isinstance(model, Int8Embedding)
    return model


def test_int8_is_quantised_once_on_the_photos_and_close_to_fp32(
    tiny_resnet_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = _photos(6, offset=40)  # not the calibration photos
    fp32 = with_runtime(HFEmbeddingModel(str(tiny_resnet_dir)), "onnx", "cpu", tmp_path)
    expected = fp32.embed_images(queries)
    calibrated: list[int] = []
    model = _int8(tiny_resnet_dir, tmp_path, calibrated)
    got = model.embed_images(queries)
    assert got.shape == expected.shape and got.dtype == np.float32
    assert float(np.sum(expected * got, axis=1).min()) > 0.9  # close, not equal:
    assert model.stamp == f"{fp32.stamp}:int8" != fp32.stamp  # an fp32 index is rebuilt
    assert calibrated == [1]
    graphs = sorted(tmp_path.glob("*.onnx"), key=lambda p: "int8" in p.name)
    assert len(graphs) == 2 and "int8" in graphs[1].name  # cached beside the fp32 export
    assert b"QuantizeLinear" in graphs[1].read_bytes()
    assert b"QuantizeLinear" not in graphs[0].read_bytes()

    monkeypatch.setattr(int8, "quantise", _must_not_run)  # a second start: the cached graph
    again = _int8(tiny_resnet_dir, tmp_path, calibrated)
    np.testing.assert_allclose(again.embed_images(queries), got, atol=1e-6)
    assert calibrated == [1] and not again.inner.is_loaded  # neither fp32 nor torch loaded


def _must_not_run(*args, **kwargs):
    raise AssertionError("the cached int8 graph should have been used")


def test_int8_needs_onnx_runtime_and_fp32_is_the_model_as_it_is(tiny_resnet_dir: Path) -> None:
    model = HFEmbeddingModel(str(tiny_resnet_dir))
    assert with_precision(model, "fp32", list) is model
    with pytest.raises(ConfigError, match="INFERENCE_PRECISION=int8 runs in ONNX Runtime"):
        with_precision(model, "int8", list)  # INFERENCE_RUNTIME=torch

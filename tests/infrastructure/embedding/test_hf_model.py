"""HFEmbeddingModel over tiny CLIP / ResNet checkpoints saved to disk (offline)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import BackendUnavailable, UnsupportedOperation
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from tests.infrastructure.embedding.tiny_models import TINY_CLIP_DIM, TINY_RESNET_DIM


def _images(count: int) -> list[Image.Image]:
    rng = np.random.default_rng(7)
    sizes = [(48, 40), (32, 64), (50, 50), (70, 33)]
    return [
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes[:count]
    ]


@pytest.fixture(scope="module")
def clip(tiny_clip_dir: Path) -> HFEmbeddingModel:
    return HFEmbeddingModel(str(tiny_clip_dir))


def test_construction_is_cheap(tiny_clip_dir: Path) -> None:
    model = HFEmbeddingModel(str(tiny_clip_dir))
    assert model.model_id == str(tiny_clip_dir)
    assert not model.is_loaded


@pytest.mark.parametrize(
    ("fixture", "dim"), [("tiny_clip_dir", TINY_CLIP_DIM), ("tiny_resnet_dir", TINY_RESNET_DIM)]
)
def test_dim_comes_from_the_config_without_loading_weights(
    request: pytest.FixtureRequest, fixture: str, dim: int
) -> None:
    model = HFEmbeddingModel(str(request.getfixturevalue(fixture)))
    assert model.dim == dim
    assert not model.is_loaded
    assert model.embed_images(_images(1)).shape == (1, dim)


def test_clip_image_embeddings(clip: HFEmbeddingModel) -> None:
    images = _images(3)
    vectors = clip.embed_images(images)
    assert vectors.shape == (3, TINY_CLIP_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(clip.embed_images(images), vectors, atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)
    assert clip.is_loaded
    assert clip.dim == TINY_CLIP_DIM
    assert clip.embed_images([]).shape == (0, TINY_CLIP_DIM)
    assert clip.embed_texts([]).shape == (0, TINY_CLIP_DIM)


def test_to_pixels_then_embed_pixels_matches_embed_images(clip: HFEmbeddingModel) -> None:
    images = _images(2)
    pixels = [clip.to_pixels(image) for image in images]
    assert pixels[0].shape == (3, 32, 32)
    assert pixels[0].dtype == np.float32
    np.testing.assert_allclose(
        clip.embed_pixels(np.stack(pixels)), clip.embed_images(images), atol=1e-6
    )


def test_clip_text_embeddings(clip: HFEmbeddingModel) -> None:
    assert clip.supports_text
    vectors = clip.embed_texts(["a photo of a cat", "a red shoe", "a red shoe"])
    assert vectors.shape == (3, TINY_CLIP_DIM)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[1], vectors[2], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1], atol=1e-3)


def test_unload_then_embed_loads_again(tiny_clip_dir: Path) -> None:
    model = HFEmbeddingModel(str(tiny_clip_dir))
    first = model.embed_images(_images(1))
    model.unload()
    assert not model.is_loaded
    np.testing.assert_allclose(model.embed_images(_images(1)), first, atol=1e-6)
    assert model.is_loaded


def test_resnet_is_image_only_with_pooled_output(tiny_resnet_dir: Path) -> None:
    model = HFEmbeddingModel(str(tiny_resnet_dir))
    vectors = model.embed_images(_images(2))
    assert vectors.shape == (2, TINY_RESNET_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not model.supports_text
    with pytest.raises(UnsupportedOperation, match="CLIP"):
        model.embed_texts(["a cat"])


def test_missing_hub_model_is_backend_unavailable() -> None:
    model = HFEmbeddingModel("nobody-here/no-such-model-xyz", local_files_only=True)
    with pytest.raises(BackendUnavailable, match="nobody-here/no-such-model-xyz") as caught:
        model.embed_images(_images(1))
    assert "EMBEDDING_MODEL" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_local_folder_is_backend_unavailable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(BackendUnavailable, match="no-such-model"):
        HFEmbeddingModel(str(missing)).embed_images(_images(1))


def test_stamp_changes_with_the_image_processor(tiny_clip_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tiny-clip"
    shutil.copytree(tiny_clip_dir, copy)
    same = HFEmbeddingModel(str(copy)).stamp
    assert same.startswith(f"{copy}:")
    config_file = copy / "preprocessor_config.json"
    settings = json.loads(config_file.read_text())
    settings["size"] = {"shortest_edge": 48}
    config_file.write_text(json.dumps(settings))
    changed = HFEmbeddingModel(str(copy)).stamp
    assert changed != same
    assert HFEmbeddingModel(str(tiny_clip_dir)).stamp == f"{tiny_clip_dir}:{same.split(':')[-1]}"

"""Fine-tuned models: backbones exposed as torch modules, the EmbeddingNet, and checkpoints
loaded back as an EmbeddingModel (tiny Hugging Face ResNet / CLIP, and EfficientNet-Lite0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.domain.errors import BackendUnavailable
from app.infrastructure.embedding import resolver
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
from app.infrastructure.embedding.finetuned import FineTunedEmbedding, build_embedding_net
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from app.infrastructure.embedding.pixels import PixelSpec, spec_from_processor
from tests.infrastructure.embedding.tiny_models import TINY_CLIP_DIM, TINY_RESNET_DIM


def _images() -> list[Image.Image]:
    rng = np.random.default_rng(3)
    return [Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)) for _ in range(3)]


def _save(net, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**net.export(), "epoch": 3}, path)
    return path


def test_pixel_specs_follow_the_image_processors(tiny_clip_dir, tiny_resnet_dir):
    clip = HFEmbeddingModel(str(tiny_clip_dir)).pixel_spec()
    assert (clip.resize, clip.crop) == (32, 32)
    assert clip.mean == pytest.approx((0.48145466, 0.4578275, 0.40821073))
    resnet = HFEmbeddingModel(str(tiny_resnet_dir)).pixel_spec()
    assert (resnet.resize, resnet.crop) == (37, 32)  # shortest edge / crop_pct 0.875
    assert spec_from_processor({"size": {"height": 64, "width": 64}}).crop == 64
    assert PixelSpec(256, 224, (0, 0, 0), (1, 1, 1)).with_crop(112).resize == 128


def test_torch_modules_give_the_adapters_features(tiny_clip_dir):
    adapter = HFEmbeddingModel(str(tiny_clip_dir))
    images = _images()
    expected = adapter.embed_images(images)
    pixels = torch.from_numpy(np.stack([adapter.to_pixels(i) for i in images]))
    with torch.no_grad():
        features = adapter.torch_module()(pixels)
    got = torch.nn.functional.normalize(features, dim=1).numpy()
    assert features.shape == (3, TINY_CLIP_DIM)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_efficientnet_torch_module_matches_embed_pixels():
    adapter = EfficientNetLiteEmbedding()
    pixels = np.stack([adapter.to_pixels(i) for i in _images()[:2]])
    with torch.no_grad():
        features = adapter.torch_module()(torch.from_numpy(pixels))
    got = torch.nn.functional.normalize(features, dim=1).numpy()
    np.testing.assert_allclose(got, adapter.embed_pixels(pixels), atol=1e-4)


def test_embedding_net_is_backbone_head_and_unit_length(tiny_resnet_dir):
    net = build_embedding_net(str(tiny_resnet_dir), embedding_dim=8, image_size=24)
    assert net.meta["feature_dim"] == TINY_RESNET_DIM
    assert net.meta["pixels"]["crop"] == 24 and net.meta["pixels"]["resize"] == 28
    out = net(torch.rand(2, 3, 24, 24))
    assert out.shape == (2, 8)
    assert torch.linalg.norm(out, dim=1).detach().numpy() == pytest.approx([1.0, 1.0])
    exported = net.export()
    assert exported["meta"]["backbone"] == str(tiny_resnet_dir)
    assert all(
        v.dtype == torch.float32 for v in exported["model"].values() if v.is_floating_point()
    )


def test_checkpoint_loads_as_an_embedding_model(tiny_resnet_dir, tmp_path):
    torch.manual_seed(0)
    net = build_embedding_net(str(tiny_resnet_dir), embedding_dim=8).eval()
    path = _save(net, tmp_path / "run" / "best_model.pt")
    model = FineTunedEmbedding(path)
    assert not model.is_loaded and model.dim == 8 and not model.supports_text
    images = _images()
    vectors = model.embed_images(images)
    assert vectors.shape == (3, 8) and model.is_loaded
    with torch.no_grad():
        direct = net(torch.from_numpy(np.stack([model.to_pixels(i) for i in images]))).numpy()
    np.testing.assert_allclose(vectors, direct, atol=1e-5)
    assert model.stamp.startswith("finetuned:best_model.pt:")
    model.unload()
    assert not model.is_loaded


def test_stamp_changes_with_the_weights(tiny_resnet_dir, tmp_path):
    torch.manual_seed(0)
    first = _save(build_embedding_net(str(tiny_resnet_dir), 8), tmp_path / "a" / "best_model.pt")
    torch.manual_seed(1)
    second = _save(build_embedding_net(str(tiny_resnet_dir), 8), tmp_path / "b" / "best_model.pt")
    assert FineTunedEmbedding(first).stamp != FineTunedEmbedding(second).stamp
    assert FineTunedEmbedding(first).stamp == FineTunedEmbedding(tmp_path / "a").stamp


def test_resolver_picks_checkpoints_by_file_or_folder(tiny_resnet_dir, tmp_path):
    path = _save(build_embedding_net(str(tiny_resnet_dir), 8), tmp_path / "m" / "best_model.pt")
    for name in (str(path), str(path.parent)):
        model = resolver.create_embedding_model(name, "cpu", 0, tmp_path / "state")
        assert isinstance(model, FineTunedEmbedding)
    with pytest.raises(BackendUnavailable, match="run `finetune`"):
        resolver.create_embedding_model(str(tmp_path / "none.pt"), "cpu", 0, tmp_path)


def test_a_foreign_pt_file_is_refused_in_one_line(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, path)
    model = FineTunedEmbedding(path)
    with pytest.raises(BackendUnavailable, match="not an img-recog fine-tuned model"):
        model.embed_images(_images())
    path.write_bytes(b"garbage")
    with pytest.raises(BackendUnavailable, match="cannot read fine-tuned model"):
        FineTunedEmbedding(path).to_pixels(_images()[0])


def test_class_centres_only_after_training(tiny_resnet_dir, tmp_path):
    """ArcFace centres of the untrained start (epoch 0 kept as best) are random: not prototypes."""
    net = build_embedding_net(str(tiny_resnet_dir), embedding_dim=8).eval()
    centres = {"loss": {"W": torch.randn(8, 3)}, "classes": ["a", "b", "c"]}
    trained = tmp_path / "trained" / "best_model.pt"
    trained.parent.mkdir()
    torch.save({**net.export(), **centres, "epoch": 2}, trained)
    found = FineTunedEmbedding(trained).class_centres()
    assert found is not None and found.classes == ["a", "b", "c"]
    untrained = tmp_path / "untrained" / "best_model.pt"
    untrained.parent.mkdir()
    torch.save({**net.export(), **centres, "epoch": 0}, untrained)
    assert FineTunedEmbedding(untrained).class_centres() is None

"""The ClassificationByRetrieval torch module: live index changes, and the same probabilities as
the RetrievalClassifier service for the same backbone and gallery."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dependency_injector import providers
from PIL import Image
from torch import nn

from app.domain.errors import UnsupportedOperation
from app.domain.images import ImageInput
from app.domain.retrieval_scoring import ScoringParams, Thresholds
from app.domain.scoring import l2_normalize
from app.services.retrieval import CbrOptions
from app.training.cbr_module import ClassificationByRetrieval
from conftest import COLOURS, write_product_photo

SIDE = 16


def tiny_backbone() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(48, 16))


class BackboneModel:
    """An EmbeddingModel over a torch backbone (16x16 pixels in, unit embeddings out)."""

    model_id = "tiny-backbone"
    stamp = "tiny-backbone:v1"
    supports_text = False
    is_loaded = True

    def __init__(self, backbone: nn.Module) -> None:
        self.backbone = backbone

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        small = image.convert("RGB").resize((SIDE, SIDE), Image.Resampling.BILINEAR)
        return np.asarray(small, dtype=np.float32).transpose(2, 0, 1) / 255.0

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return l2_normalize(self.backbone(torch.from_numpy(pixels)).numpy())

    def embed_images(self, images):
        return self.embed_pixels(np.stack([self.to_pixels(i) for i in images]))

    def embed_texts(self, texts):
        raise UnsupportedOperation("image-only")

    def unload(self) -> None:
        return None


def rows(n: int, dim: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def test_index_changes_without_retraining():
    model = ClassificationByRetrieval(nn.Identity())
    model.add_index_data(rows(4), ["b", "a", "b", "a"])
    assert model.idx_to_classes == {0: "a", 1: "b"}
    model.update_class_embeddings("c", torch.from_numpy(rows(2, seed=1)))
    assert model.idx_to_classes == {0: "a", 1: "b", 2: "c"}
    assert model(torch.from_numpy(rows(3, seed=2))).shape == (3, 3)
    model.update_class_embeddings("b", rows(1, seed=3), append=False)
    assert model.labels == ["a", "a", "c", "c", "b"]
    model.remove_class("a")
    model.remove_examples([0])
    assert model.labels == ["c", "b"] and model.idx_to_classes == {0: "b", 1: "c"}
    with pytest.raises(KeyError, match="'a'"):
        model.remove_class("a")
    with pytest.raises(IndexError, match=r"\[5\]"):
        model.remove_examples([5])
    with pytest.raises(ValueError, match="dimension 8"):
        model.add_index_data(rows(1, dim=8), ["d"])
    with pytest.raises(ValueError, match="2 labels for 1"):
        model.add_index_data(rows(1), ["d", "e"])


def test_an_example_is_found_by_itself_and_gradients_stay_off():
    backbone = tiny_backbone()
    model = ClassificationByRetrieval(backbone)
    images = torch.rand(3, 3, SIDE, SIDE)
    model.add_index_data(backbone(images).detach(), ["x", "y", "z"])
    assert model(images).argmax(dim=1).tolist() == [0, 1, 2]
    assert not any(p.requires_grad for p in backbone.parameters())
    predictions = model.predict(images, Thresholds(min_similarity=0.999))
    assert [p.class_name for p in predictions] == ["x", "y", "z"]


@pytest.mark.parametrize("aggregation", ["max", "prototype", "knn"])
def test_same_probabilities_as_the_service(container, tmp_path, aggregation):
    backbone = tiny_backbone()
    embedding = BackboneModel(backbone)
    container.embedding_model.override(providers.Object(embedding))
    container.rebuild_service().run()
    params = ScoringParams(aggregation, knn_k=4)
    container.retrieval_classifier.add_kwargs(options=CbrOptions(scoring=params))
    queries = [
        write_product_photo(tmp_path / f"{name}.jpg", colour, seed=90 + i)
        for i, (name, colour) in enumerate(COLOURS.items())
    ]
    served = container.retrieval_classifier().predict_images(ImageInput.files(queries)).predictions

    store, repo = container.vector_store(), container.repository()
    ids = store.ids()
    names = repo.get_images(ids.tolist())
    module = ClassificationByRetrieval(backbone, params=params)
    module.add_index_data(store.vectors(ids), [names[i].product_id for i in ids.tolist()])
    preprocessor = container.preprocessor()
    pixels = np.stack([embedding.to_pixels(preprocessor.prepare(q)) for q in queries])
    probabilities = torch.softmax(module(torch.from_numpy(pixels)), dim=1).numpy()
    for row, prediction in zip(probabilities, served, strict=True):
        mine = {module.idx_to_classes[i]: float(p) for i, p in enumerate(row)}
        assert mine == pytest.approx(prediction.class_probabilities, abs=1e-6)

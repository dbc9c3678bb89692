"""Coming from the ML module: its documented Python calls, verbatim, from one import.

from app.engine import ImageSearchEngine, FeatureExtractor, EvaluationUtils
from app.engine import ClassificationByRetrieval
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.domain.errors import ImageError
from app.engine import (
    ClassificationByRetrieval,
    EvaluationUtils,
    FeatureExtractor,
    ImageSearchEngine,
)
from conftest import eth80_or_skip, write_product_photo


def test_image_search_engine_and_feature_extractor(settings, tmp_path):
    """The real default model (EfficientNet-Lite0) over the small catalogue."""
    engine = ImageSearchEngine(settings)
    assert engine.build_index(force_rebuild=False).embedded == 9
    assert engine.load_index() == 9
    query = write_product_photo(tmp_path / "q.jpg", (30, 50, 210), seed=8)
    hits = engine.search(str(query), top_k=5)
    assert len(hits) == 5 and hits[0]["product_id"] == "blue-dress"
    assert all({"product_id", "similarity"} <= set(h) for h in hits)
    assert engine.get_statistics()["images"] == 9

    extractor = FeatureExtractor(container=engine.container)  # or FeatureExtractor(settings)
    one = extractor.extract_features(hits[0]["path"])
    assert one.shape == (1280,) and one.dtype == np.float32
    assert np.linalg.norm(one) == pytest.approx(1.0, abs=1e-5)
    assert float(one @ extractor.extract_features(str(query))) == pytest.approx(
        hits[0]["similarity"], abs=1e-4
    )  # the engine's own embeddings: a search score is their cosine similarity
    paths = [h["path"] for h in hits[:3]]
    batch = extractor.extract_batch_features(paths)
    assert batch.shape == (3, 1280) and np.allclose(batch[0], one, atol=1e-5)

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a picture")
    with pytest.raises(ImageError, match=r"bad\.jpg"):
        extractor.extract_batch_features([paths[0], str(bad)])


def test_evaluation_utils_static_methods():
    true = ["cat", "dog", "cat"]
    ranked = [["cat", "dog", "cat"], ["cat", "cat", "bird"], ["dog", "cat"]]  # the last is short
    assert EvaluationUtils.calculate_precision_at_k(true, ranked, 1) == pytest.approx(1 / 3)
    assert EvaluationUtils.calculate_precision_at_k(true, ranked, 3) == pytest.approx(
        (2 / 3 + 0 + 1 / 3) / 3
    )
    assert EvaluationUtils.calculate_recall_at_k(true, ranked, 1) == pytest.approx(1 / 3)
    assert EvaluationUtils.calculate_recall_at_k(true, ranked, 2) == pytest.approx(2 / 3)
    assert EvaluationUtils.calculate_recall_at_k([1, 2], [1, 3], k=1) == 0.5  # one label each
    with pytest.raises(ValueError, match="2 true labels for 1"):
        EvaluationUtils.calculate_recall_at_k(["a", "b"], [["a"]], 1)


@pytest.fixture(scope="module")
def views():
    """ETH-80 photos: two views each of a cow, a cup and an apple, and a third view to ask."""
    root = eth80_or_skip()
    pick = {"cow": "cow1", "cup": "cup1", "apple": "apple1"}
    gallery = {c: [root / c / f"{o}_{v}.jpg" for v in (1, 2)] for c, o in pick.items()}
    queries = {c: root / c / f"{o}_5.jpg" for c, o in pick.items()}
    return gallery, queries


def test_classification_by_retrieval_as_documented(views):
    gallery, queries = views
    model = ClassificationByRetrieval()  # the packaged EfficientNet-Lite0, offline
    assert model.embedding_dim == 1280
    paths = [p for ps in gallery.values() for p in ps]
    labels = [c for c, ps in gallery.items() for _ in ps]
    embeddings = model.get_embedding(model.to_pixels(paths))
    assert embeddings.shape == (6, 1280)
    assert torch.allclose(embeddings.norm(dim=1), torch.ones(6), atol=1e-5)

    model.add_index_data(embeddings, labels)
    assert model.idx_to_classes == {0: "apple", 1: "cow", 2: "cup"}
    assert model.index_embeddings.shape == (6, 1280)
    assert [model.idx_to_classes[int(i)] for i in model.class_labels] == labels

    asked = model.to_pixels(list(queries.values()))
    logits = model(asked)
    assert logits.shape == (3, 3)
    assert [model.idx_to_classes[int(i)] for i in logits.argmax(dim=1)] == list(queries)

    # the documented "combine, then add_index_data" pattern: one copy of each example
    extra = model.get_embedding(asked[:1])
    model.add_index_data(
        torch.cat([model.index_embeddings, extra]), [*model.class_labels.tolist(), "calf"]
    )
    assert len(model.class_labels) == 7 and model.labels.count("cow") == 2

    model.update_class_embeddings("calf", extra, append=True)
    assert model.labels.count("calf") == 2
    model.update_class_embeddings("cup", embeddings[:1], append=False)  # replaced by a cow view
    model.remove_class("calf")
    model.remove_examples(indices=[0])
    assert model.labels == ["cow", "apple", "apple", "cup"]
    assert model(asked).shape == (3, 3)


def test_a_backbone_and_its_embedding_dim():
    backbone = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8))
    model = ClassificationByRetrieval(backbone=backbone, embedding_dim=8)
    model.add_index_data(torch.randn(4, 8), ["a", "b", "a", "b"])
    assert model(torch.rand(2, 3, 2, 2)).shape == (2, 2)
    with pytest.raises(ValueError, match="dimension 5, the index 8"):
        model.add_index_data(torch.randn(1, 5), ["c"])
    with pytest.raises(ValueError, match="not 512"):
        ClassificationByRetrieval(embedding_dim=512)

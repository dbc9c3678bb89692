"""Zero-shot through the real transformers adapter with a tiny, locally built CLIP."""

from __future__ import annotations

import pytest

from app.container import build_container
from app.domain.images import ImageInput
from app.infrastructure.labels.yaml_labels import YamlLabelSource
from conftest import write_product_photo


@pytest.fixture
def clip_container(settings, tiny_clip_dir, monkeypatch):
    settings = settings.model_copy(
        update={
            "embedding_model": str(tiny_clip_dir),
            "classify_min_confidence": 0.0,
            "classify_min_margin": 0.0,
        }
    )
    container = build_container(settings)
    model = container.embedding_model()
    calls: list[list[str]] = []
    real = model.embed_texts
    monkeypatch.setattr(model, "embed_texts", lambda texts: calls.append(texts) or real(texts))
    container.text_calls = calls
    return container


def test_category_then_its_attributes_with_a_prompt_ensemble(clip_container, tmp_path):
    photos = [write_product_photo(tmp_path / f"{i}.jpg", (40 * i, 90, 200), i) for i in range(3)]
    outcome = clip_container.classify_service().classify_images(ImageInput.files(photos))
    labels = YamlLabelSource(clip_container.settings().labels_file).load()
    category_call = clip_container.text_calls[0]
    assert category_call == [
        "a photo of a shoe.", "a picture of a shoe.",
        "a photo of a hat.", "a picture of a hat.",
        "a photo of a dress.", "a picture of a dress.",
    ]  # fmt: skip
    for result in outcome.results:
        category = result.category
        assert category.source == "zero-shot" and category.value in labels.category_names
        assert set(category.probabilities) == {"shoe", "hat", "dress"}
        assert sum(category.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        expected = [a.name for a in labels.category(category.value).attributes]
        assert [a.name for a in result.attributes] == expected
        for attribute in result.attributes:
            assert sum(attribute.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    predicted = {r.category.value for r in outcome.results}
    embedded = [t for call in clip_container.text_calls for t in call]
    if "shoe" in predicted:
        assert "a photo of a men's shoe." in embedded
    if "shoe" not in predicted and "hat" not in predicted:
        assert len(clip_container.text_calls) == 1


def test_text_embeddings_once_then_again_after_the_labels_file_changes(clip_container, tmp_path):
    photo = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=1)
    clip_container.classify_service().classify_images(ImageInput.files([photo]))
    calls = len(clip_container.text_calls)
    assert calls >= 1
    clip_container.classify_service().classify_images(ImageInput.files([photo]))
    assert len(clip_container.text_calls) == calls
    labels_file = clip_container.settings().labels_file
    labels_file.write_text(labels_file.read_text().replace("dress:", "skirt:"))
    clip_container.classify_service().classify_images(ImageInput.files([photo]))
    assert len(clip_container.text_calls) == calls + 1
    assert "a photo of a skirt." in clip_container.text_calls[calls]

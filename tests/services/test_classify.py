"""classify: category first, then THAT category's attributes; heads, retrieval and notes."""

from __future__ import annotations

import numpy as np
import pytest
from dependency_injector import providers

from app.domain.classification import RetrievalPrediction
from app.domain.errors import IndexNotReady, UnsupportedOperation
from app.domain.heads import TrainOptions
from app.domain.images import ImageInput
from app.services.cached_embeddings import CachedEmbeddings
from app.services.classify import ClassifyService
from conftest import COLOURS, write_product_photo, write_training_set
from tests.fakes import ThumbnailModel

RED, GREEN, BLUE = COLOURS["red-shoe"], COLOURS["green-hat"], COLOURS["blue-dress"]


@pytest.fixture
def photos(tmp_path):
    return {
        "red": write_product_photo(tmp_path / "q" / "red.jpg", RED, seed=51),
        "green": write_product_photo(tmp_path / "q" / "green.jpg", GREEN, seed=52),
        "blue": write_product_photo(tmp_path / "q" / "blue.jpg", BLUE, seed=53),
    }


class FixedRetrieval:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def predict_vectors(self, vectors, aggregation=None):
        if self.error is not None:
            raise self.error
        return [
            RetrievalPrediction(f"product-{i}", 0.8, False, None, {f"product-{i}": 0.8}, "max")
            for i in range(len(vectors))
        ]


def _service(container, retrieval) -> ClassifyService:
    embeddings = CachedEmbeddings(container.embedder(), container.cache())
    return ClassifyService(embeddings, container.attribute_classifier(), retrieval)


def _by_name(result) -> dict:
    return {a.name: a for a in result.attributes}


def test_category_then_the_attributes_of_that_category(classify_container, colour_model, photos):
    outcome = classify_container.classify_service().classify_images(
        ImageInput.files(list(photos.values()))
    )
    red, green, blue = outcome.results
    assert (red.category.value, red.category.source) == ("shoe", "zero-shot")
    assert list(_by_name(red)) == ["color", "gender"]
    assert (_by_name(red)["color"].value, _by_name(red)["color"].source) == ("red", "zero-shot")
    # "men's shoe" and "women's shoe" say nothing the fake can see: an honest "I don't know"
    gender = _by_name(red)["gender"]
    assert gender.value is None and gender.confidence == pytest.approx(0.5)
    assert "unsure" in gender.reason
    assert (green.category.value, list(_by_name(green))) == ("hat", ["color"])
    assert _by_name(green)["color"].value == "green"
    assert (blue.category.value, blue.attributes) == ("dress", [])
    texts = colour_model.texts_embedded
    assert "a photo of a red shoe." in texts and "a photo of a men's shoe." in texts
    assert "a photo of a red dress." not in texts  # dress has no attributes
    for p in [red.category, *red.attributes]:
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert red.retrieval is None
    assert red.notes == [
        "no classification by retrieval: the gallery is empty: run `rebuild` or `class add`"
    ]


def test_prompt_ensemble_is_the_normalised_mean_of_the_templates(classify_container, colour_model):
    zero_shot = classify_container.zero_shot()
    prompts = [["a photo of a red shoe.", "a picture of a blue shoe."], ["a green hat."]]
    vectors = zero_shot.class_vectors(prompts)
    texts = colour_model.embed_texts(["a photo of a red shoe.", "a picture of a blue shoe."])
    mean = texts.mean(axis=0)
    np.testing.assert_allclose(vectors[0], mean / np.linalg.norm(mean), rtol=1e-5)
    image = colour_model.embed_texts(["red"])
    scaled = 100 * image @ vectors.T
    expected = np.exp(scaled - scaled.max()) / np.exp(scaled - scaled.max()).sum()
    np.testing.assert_allclose(zero_shot.probabilities(image, prompts), expected, atol=1e-6)


def test_text_embeddings_are_computed_once_and_again_when_labels_change(
    classify_container, settings, colour_model, photos
):
    service = classify_container.classify_service()
    service.classify_images(ImageInput.files([photos["red"]]))
    calls = len(colour_model.text_calls)
    assert calls == 3  # categories, then shoe color, shoe gender
    service.classify_images(ImageInput.files([photos["red"], photos["green"]]))
    assert len(colour_model.text_calls) == 4  # only hat color is new
    classify_container.classify_service().classify_images(ImageInput.files([photos["green"]]))
    assert len(colour_model.text_calls) == 4

    # another process (fresh container, same INDEX_DIR) reads them from disk
    from app.container import build_container

    fresh = build_container(settings)
    fresh.embedding_model.override(providers.Object(colour_model))
    fresh.classify_service().classify_images(ImageInput.files([photos["red"]]))
    assert len(colour_model.text_calls) == 4

    edited = settings.labels_file.read_text().replace(
        '"a picture of a {}."', '"a picture of a {}.", "an image of a {}."'
    )
    settings.labels_file.write_text(edited)
    fresh.classify_service().classify_images(ImageInput.files([photos["red"]]))
    assert len(colour_model.text_calls) == 5  # only the category prompts changed
    assert "an image of a shoe." in colour_model.text_calls[-1]


def test_image_only_model_says_how_to_get_zero_shot(container, photos):
    with pytest.raises(UnsupportedOperation) as caught:
        container.classify_service().classify_images(ImageInput.files([photos["red"]]))
    message = str(caught.value)
    assert "nothing can classify" in message and "needs a text-image model" in message
    assert "EMBEDDING_MODEL=openai/clip-vit-base-patch32" in message
    results = (
        _service(container, FixedRetrieval())
        .classify_images(ImageInput.files([photos["red"]]))
        .results
    )
    assert results[0].retrieval.class_name == "product-0" and results[0].category is None
    assert any("EMBEDDING_MODEL=openai/clip-vit-base-patch32" in n for n in results[0].notes)


def test_empty_gallery_is_a_note_not_an_error(classify_container, photos):
    retrieval = FixedRetrieval(IndexNotReady("the index is empty: run `rebuild` first"))
    (result,) = (
        _service(classify_container, retrieval)
        .classify_images(ImageInput.files([photos["red"]]))
        .results
    )
    assert result.category.value == "shoe" and result.retrieval is None
    assert result.notes == [
        "no classification by retrieval: the index is empty: run `rebuild` first"
    ]


def test_use_trained_takes_heads_and_falls_back_per_attribute(classify_container, photos):
    write_training_set(
        classify_container.settings().training_dir, "shoe", "color",
        {"red": RED, "green": GREEN, "blue": BLUE},
    )  # fmt: skip
    options = TrainOptions(epochs=40, lr=1e-2, val_fraction=0.0)
    classify_container.train_service().train("shoe", "color", options)
    service = classify_container.classify_service()
    (plain,) = service.classify_images(ImageInput.files([photos["red"]])).results
    assert _by_name(plain)["color"].source == "zero-shot"
    (trained,) = service.classify_images(
        ImageInput.files([photos["red"]]), use_trained=True
    ).results
    color, gender = _by_name(trained)["color"], _by_name(trained)["gender"]
    assert (color.value, color.source) == ("red", "trained")
    assert set(color.probabilities) == {"red", "green", "blue"}
    assert gender.source == "zero-shot"
    (green,) = service.classify_images(
        ImageInput.files([photos["green"]]), use_trained=True
    ).results
    assert _by_name(green)["color"].source == "zero-shot"  # no head for hat/color


def test_head_of_another_model_is_not_used_and_says_retrain(classify_container, photos):
    heads = classify_container.attribute_heads()
    rng = np.random.default_rng(0)
    from app.domain.heads import LabelledVectors

    data = LabelledVectors(rng.normal(size=(8, 192)).astype(np.float32), ["red", "blue"] * 4)
    heads.train("shoe", "color", data, TrainOptions(epochs=1), "another-model:v1")
    service = classify_container.classify_service()
    (result,) = service.classify_images(ImageInput.files([photos["red"]]), use_trained=True).results
    assert _by_name(result)["color"].source == "zero-shot"
    (note,) = [n for n in result.notes if "head" in n]
    assert "head shoe/color was trained on another-model:v1" in note and "retrain" in note


def test_single_category_labels_and_a_head_work_with_an_image_only_model(
    container, settings, photos, tmp_path
):
    labels = tmp_path / "one.yaml"
    labels.write_text("categories: {clothing: {attributes: {}}}")
    container.settings.override(
        providers.Object(settings.model_copy(update={"labels_file": labels}))
    )
    write_training_set(settings.training_dir, "clothing", "color",
                       {"red": RED, "blue": BLUE})  # fmt: skip
    container.train_service().train("clothing", "color", TrainOptions(epochs=40, lr=1e-2))
    (result,) = (
        container.classify_service()
        .classify_images(ImageInput.files([photos["blue"]]), True)
        .results
    )
    assert (result.category.value, result.category.source) == ("clothing", "labels")
    assert [(a.name, a.value, a.source) for a in result.attributes] == [
        ("color", "blue", "trained")
    ]
    with pytest.raises(UnsupportedOperation, match="only with --use-trained"):
        container.classify_service().classify_images(ImageInput.files([photos["blue"]]))


def test_bad_files_are_skipped_and_the_rest_answered(classify_container, photos, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    outcome = classify_container.classify_service().classify_images(
        ImageInput.files([bad, photos["red"], tmp_path / "missing.jpg"])
    )
    assert [r.image for r in outcome.results] == [str(photos["red"])]
    assert {s.path for s in outcome.skipped} == {str(bad), str(tmp_path / "missing.jpg")}


def test_missing_labels_file_is_a_note(classify_container, settings, photos):
    settings.labels_file.unlink()
    retrieval = FixedRetrieval()
    (result,) = (
        _service(classify_container, retrieval)
        .classify_images(ImageInput.files([photos["red"]]))
        .results
    )
    assert result.category is None and result.retrieval is not None
    assert "labels file not found" in result.notes[0]


def test_image_only_fake_is_not_text_capable():
    assert not ThumbnailModel().supports_text

"""Classification by retrieval through the service: aggregations, thresholds, errors, and
predictions running while the gallery changes."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from dependency_injector import providers

from app.domain.errors import IndexNotReady, InvalidInput, ModelMismatch
from app.domain.images import ImageInput
from app.domain.retrieval_scoring import Thresholds
from app.services.retrieval import CbrOptions
from conftest import COLOURS, write_product_photo
from tests.fakes import ThumbnailModel


@pytest.fixture
def gallery(container):
    container.rebuild_service().run()
    return container


@pytest.fixture
def queries(tmp_path) -> list[Path]:
    """One query photo per catalogue product, named after it."""
    return [
        write_product_photo(tmp_path / "q" / product / "q.jpg", colour, seed=300 + i)
        for i, (product, colour) in enumerate(COLOURS.items())
    ]


@pytest.mark.parametrize("aggregation", ["max", "prototype", "knn"])
def test_each_aggregation_finds_the_class(gallery, queries, aggregation):
    outcome = gallery.retrieval_classifier().predict_images(ImageInput.files(queries), aggregation)
    assert outcome.images == [str(q) for q in queries] and not outcome.skipped
    for query, prediction in zip(queries, outcome.predictions, strict=True):
        assert prediction.class_name == query.parent.name
        assert prediction.aggregation == aggregation and not prediction.unclassifiable
        assert set(prediction.class_probabilities) == set(COLOURS)
        assert sum(prediction.class_probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert 0 < prediction.similarity <= 1.0001


def test_predict_vectors_one_per_row_and_bad_input(gallery, queries):
    classifier = gallery.retrieval_classifier()
    vectors = gallery.embedder().embed_all(ImageInput.files(queries)).vectors
    assert [p.class_name for p in classifier.predict_vectors(vectors)] == list(COLOURS)
    with pytest.raises(ModelMismatch, match="dimension 192"):
        classifier.predict_vectors(np.ones((1, 7), dtype=np.float32))
    with pytest.raises(InvalidInput, match="unknown aggregation 'mean'"):
        classifier.predict_vectors(vectors, "mean")


def test_empty_gallery_is_index_not_ready(container):
    with pytest.raises(IndexNotReady, match="gallery is empty"):
        container.retrieval_classifier().predict_vectors(np.ones((1, 192), dtype=np.float32))


def test_gallery_of_another_model_is_a_clear_error(gallery, queries):
    gallery.embedding_model.override(providers.Object(ThumbnailModel("other")))
    gallery.embedder.reset()
    with pytest.raises(ModelMismatch, match="current model is other"):
        gallery.retrieval_classifier().predict_images(ImageInput.files(queries))


def test_thresholds_from_the_settings_reject(gallery, queries):
    strict = CbrOptions(thresholds=Thresholds(min_similarity=1.0))
    gallery.retrieval_classifier.add_kwargs(options=strict)
    prediction = (
        gallery.retrieval_classifier().predict_images(ImageInput.files(queries[:1])).predictions[0]
    )
    assert prediction.unclassifiable and prediction.class_name is None
    assert prediction.reason.startswith("best similarity") and "below threshold 1.000" in (
        prediction.reason
    )
    ambiguous = CbrOptions(thresholds=Thresholds(min_margin=1.0))
    gallery.retrieval_classifier.add_kwargs(options=ambiguous)
    prediction = (
        gallery.retrieval_classifier().predict_images(ImageInput.files(queries[:1])).predictions[0]
    )
    assert prediction.reason.startswith("ambiguous between red-shoe and ")


def test_predictions_see_the_gallery_before_or_after_each_change(gallery, tmp_path):
    """Readers race a writer that swaps a class between 2 and 3 examples and removes it.

    Every prediction must see one whole gallery: 9 (class removed), 11 or 12 examples; a reader
    that saw both example sets at once (14) or a half-removed class would fail.
    """
    two = [write_product_photo(tmp_path / "a" / f"{i}.jpg", (230, 210, 20), i) for i in range(2)]
    three = [write_product_photo(tmp_path / "b" / f"{i}.jpg", (240, 200, 30), i) for i in range(3)]
    service = gallery.gallery_service()
    service.add_class("yellow", ImageInput.files(two))
    query = np.random.default_rng(0).standard_normal((4, 192)).astype(np.float32)
    seen: list[tuple[int, frozenset[str]]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        classifier = gallery.retrieval_classifier()
        try:
            for _ in range(400):
                if done.is_set():
                    break
                gallery_now = classifier.snapshot().gallery
                seen.append((len(gallery_now), frozenset(gallery_now.class_names)))
                predictions = classifier.predict_vectors(query)
                assert all(
                    set(p.class_probabilities) <= set(COLOURS) | {"yellow"} for p in predictions
                )
        except BaseException as exc:  # reported below, in the main thread
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for round_ in range(4):
            service.update_class(
                "yellow", ImageInput.files(three if round_ % 2 == 0 else two), replace_all=True
            )
            service.remove_class("yellow")
            service.add_class("yellow", ImageInput.files(two))
    finally:
        done.set()
        for reader in readers:
            reader.join(timeout=30)
    assert not errors, errors[0]
    with_yellow = frozenset(COLOURS) | {"yellow"}
    allowed = {(9, frozenset(COLOURS)), (11, with_yellow), (12, with_yellow)}
    assert seen and set(seen) <= allowed, set(seen) - allowed


def test_query_embeddings_are_computed_once_and_shared_with_search(gallery, fake_model, queries):
    """Predicting again, or searching with the same photos, asks the model for nothing more:
    classification by retrieval uses the query-embedding cache of search and classify."""
    before = fake_model.embedded
    first = gallery.retrieval_classifier().predict_images(ImageInput.files(queries))
    assert fake_model.embedded == before + len(queries)
    again = gallery.retrieval_classifier().predict_images(ImageInput.files(queries))
    gallery.search_service().search_images(ImageInput.files(queries), k=1)
    assert fake_model.embedded == before + len(queries)
    assert again.predictions == first.predictions and again.images == first.images

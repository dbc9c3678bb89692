"""Search: nearest products first, clear errors for a missing or stale index, cached queries."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from app.domain.errors import IndexNotReady, ModelMismatch, UnsupportedOperation
from app.domain.images import ImageInput
from conftest import write_product_photo
from tests.fakes import ThumbnailModel


@pytest.fixture
def indexed(container):
    container.rebuild_service().run()
    return container


def test_query_photo_finds_its_product_first(indexed, tmp_path):
    query = write_product_photo(tmp_path / "q" / "shoe.jpg", (205, 35, 25), seed=123)
    outcome = indexed.search_service().search_images(ImageInput.files([query]), k=3)
    hits = outcome.results[0].hits
    assert [h.product_id for h in hits] == ["red-shoe"] * 3
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score
    assert Path(hits[0].path).is_file()


def test_folder_of_queries_and_a_bad_file(indexed, tmp_path):
    folder = tmp_path / "queries"
    write_product_photo(folder / "a.jpg", (30, 180, 40), seed=1)
    write_product_photo(folder / "nested" / "b.png", (30, 50, 210), seed=2)
    (folder / "bad.jpg").write_bytes(b"nope")
    outcome = indexed.search_service().search_images(
        ImageInput.files([folder, tmp_path / "missing.jpg"]), k=1
    )
    tops = {Path(r.query).name: r.hits[0].product_id for r in outcome.results}
    assert tops == {"a.jpg": "green-hat", "b.png": "blue-dress"}
    reasons = {Path(s.path).name: s.reason for s in outcome.skipped}
    assert set(reasons) == {"bad.jpg", "missing.jpg"}
    assert "not found" in reasons["missing.jpg"]


def test_repeated_query_uses_the_cache(indexed, fake_model, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=3)
    service = indexed.search_service()
    first = service.search_images(ImageInput.files([query]))
    used = fake_model.embedded
    second = service.search_images(ImageInput.files([query]))
    assert fake_model.embedded == used
    assert first.results == second.results
    assert any(e.kind == "query" for e in indexed.cache_service().list())


def test_empty_index_says_run_rebuild(container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=3)
    with pytest.raises(IndexNotReady, match="rebuild"):
        container.search_service().search_images(ImageInput.files([query]))


def test_index_from_another_model_is_a_clear_error(indexed, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=3)
    indexed.embedding_model.override(providers.Object(ThumbnailModel("other-model")))
    indexed.embedder.reset()
    with pytest.raises(ModelMismatch, match=r"index built with thumbnail-8.*other-model.*rebuild"):
        indexed.search_service().search_images(ImageInput.files([query]))


def test_text_query_on_image_only_model_explains_what_to_do(indexed):
    with pytest.raises(UnsupportedOperation, match="EMBEDDING_MODEL="):
        indexed.search_service().search_text("red shoe")


def test_cache_clear_unloads_model_and_drops_embeddings(indexed, fake_model, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=3)
    indexed.search_service().search_images(ImageInput.files([query]))
    assert fake_model.is_loaded
    dropped = indexed.cache_service().clear()
    assert dropped == 2 and not fake_model.is_loaded
    assert indexed.cache_service().list() == []


def test_a_query_embedded_by_search_is_reused_by_its_verdict(indexed, fake_model, tmp_path):
    """Compute once, reuse everywhere: search and feedback share the injected query embeddings."""
    from app.services.feedback import Target

    query = write_product_photo(tmp_path / "q" / "hat.jpg", (35, 175, 45), seed=7)
    indexed.search_service().search_images(ImageInput.files([query]), k=1)
    embedded = fake_model.embedded
    judged = indexed.feedback_service().record(
        ImageInput.file(query), [Target("green-hat")], "good"
    )
    assert len(judged) == 1 and fake_model.embedded == embedded

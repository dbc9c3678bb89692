"""The Python API for notebooks: build_index, load_index, search, get_statistics."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from app.container import build_container
from app.domain.errors import ImageError
from app.engine import ImageSearchEngine
from conftest import write_product_photo
from tests.fakes import ThumbnailModel


@pytest.fixture
def engine(settings):
    container = build_container(settings)
    container.embedding_model.override(providers.Object(ThumbnailModel()))
    return ImageSearchEngine(container=container)


def test_build_search_and_statistics(engine, tmp_path):
    report = engine.build_index()
    assert report.embedded == 9
    assert engine.build_index().embedded == 0
    assert engine.build_index(force_rebuild=True).embedded == 9
    query = write_product_photo(tmp_path / "q.jpg", (30, 50, 210), seed=8)
    hits = engine.search(query, top_k=2)
    assert [h["product_id"] for h in hits] == ["blue-dress", "blue-dress"]
    assert {"product_id", "path", "similarity", "rank", "image_id"} <= set(hits[0])
    stats = engine.get_statistics()
    assert stats["images"] == 9 and stats["products"] == 3 and stats["last_rebuild"]


def test_load_index_in_a_new_engine(engine, settings):
    engine.build_index()
    fresh = build_container(settings)
    fresh.embedding_model.override(providers.Object(ThumbnailModel()))
    assert ImageSearchEngine(container=fresh).load_index() == 9


def test_search_with_a_bad_file_raises_image_error(engine, tmp_path):
    engine.build_index()
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"junk")
    with pytest.raises(ImageError, match=r"bad\.jpg"):
        engine.search(bad)


def test_classify(classify_container, tmp_path):
    engine = ImageSearchEngine(container=classify_container)
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=8)
    result = engine.classify(query)
    assert result["image"] == str(query) and result["category"]["value"] == "shoe"
    assert [a["name"] for a in result["attributes"]] == ["color", "gender"]
    with pytest.raises(ImageError):
        engine.classify(tmp_path / "missing.jpg")

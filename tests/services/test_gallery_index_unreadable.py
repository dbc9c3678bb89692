"""A class change in a process that cannot load the newest saved index (issue 17): refused in
one line, nothing changed, and the same change works once the index reads again."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from app.container import build_container
from app.domain.errors import BackendUnavailable
from app.infrastructure.vector_store import faiss_store
from tests.fakes import ReadIndexFails, ThumbnailModel
from tests.services.test_gallery import PURPLE, YELLOW, consistent, images, predict


def test_a_class_add_that_cannot_load_the_newest_index_changes_nothing(
    container, settings, tmp_path, monkeypatch
):
    """Issue 17 through a class add: another process (`other`, holding the index as rebuilt)
    cannot load the generation saved since (the yellow class), on a transient error. Its class
    add fails in one line and changes nothing (no rows, no copies, no save over the yellow
    vectors); retried once the read works, both classes are there and every row has its vector."""
    container.rebuild_service().run()
    other = build_container(settings)
    other.embedding_model.override(providers.Object(ThumbnailModel()))
    assert len(other.vector_store()) == 9
    container.gallery_service().add_class("yellow-bag", images(tmp_path / "y", YELLOW, 2))
    rows = len(other.repository().list_images())
    real = faiss_store.load_faiss()
    monkeypatch.setattr(faiss_store, "load_faiss", lambda: ReadIndexFails(real))
    with pytest.raises(BackendUnavailable, match=r"Too many open files.*nothing was changed"):
        other.gallery_service().add_class("purple-bag", images(tmp_path / "p", PURPLE, 2))
    assert len(other.repository().list_images()) == rows
    assert not (settings.examples_dir / "purple-bag").exists() or not any(
        (settings.examples_dir / "purple-bag").iterdir()
    )
    monkeypatch.setattr(faiss_store, "load_faiss", lambda: real)
    other.gallery_service().add_class("purple-bag", images(tmp_path / "p", PURPLE, 2))
    fresh = build_container(settings)
    fresh.embedding_model.override(providers.Object(ThumbnailModel()))
    consistent(fresh)
    assert len(fresh.vector_store()) == 13
    assert (predict(fresh, YELLOW), predict(fresh, PURPLE)) == ("yellow-bag", "purple-bag")

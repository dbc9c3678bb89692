"""`migrate`: vectors and rows move to other back ends without re-embedding, counts and vectors are
verified, the source is never written, and the user is told what to put in .env."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from dependency_injector import providers

from app.cli.render import hide_password
from app.container import build_container
from app.domain.errors import ImgRecogError
from app.domain.images import ImageInput
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.migrate import MigrateService, MigrationTarget
from conftest import run_cli, write_product_photo


def container_for(settings, fake_model, **changes):
    c = build_container(settings.model_copy(update=changes))
    c.embedding_model.override(providers.Object(fake_model))
    return c


class Answers:
    """The ranked paths and scores of a query, equal when paths match and scores agree."""

    def __init__(self, container, query: Path) -> None:
        hits = (
            container.search_service().search_images(ImageInput.files([query]), k=9).results[0].hits
        )
        self.paths = [h.path for h in hits]
        self.scores = np.array([h.score for h in hits])

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Answers)
            and self.paths == other.paths
            and np.allclose(self.scores, other.scores, atol=1e-5)
        )

    __hash__ = None  # type: ignore[assignment]


answers = Answers


def fingerprint(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def query(tmp_path) -> Path:
    return write_product_photo(tmp_path / "q.jpg", (30, 180, 40), seed=7)


@pytest.fixture
def built(container):
    assert container.rebuild_service().run().embedded == 9
    return container


def test_faiss_to_qdrant_and_back_to_faiss_hnsw(built, settings, fake_model, query):
    before = answers(built, query)
    source_files = fingerprint(settings.index_dir / "faiss")
    code, out, err = run_cli(built, "migrate", "--to", "qdrant")
    assert code == 0, err
    assert "copied 9 vectors" in out and "the source is unchanged" in out
    assert "  VECTOR_STORE=qdrant" in out.splitlines()
    assert fingerprint(settings.index_dir / "faiss") == source_files
    assert fake_model.embedded == 9 + 1  # the catalogue once, the query once: nothing re-embedded

    on_qdrant = container_for(settings, fake_model, vector_store="qdrant")
    assert answers(on_qdrant, query) == before
    store = on_qdrant.vector_store()
    green = {r.id for r in on_qdrant.repository().list_images() if r.product_id == "green-hat"}
    hits = store.search_where(store.vectors(np.array(sorted(green))), 9, ["green-hat"])
    assert {i for i, _ in hits[0]} == green  # product payloads came from the repository

    code, out, err = run_cli(on_qdrant, "migrate", "--to", "faiss", "--faiss-index", "hnsw")
    assert code == 0, err
    assert {"  VECTOR_STORE=faiss", "  FAISS_INDEX=hnsw"} <= set(out.splitlines())
    on_hnsw = container_for(settings, fake_model, faiss_index="hnsw")
    assert on_hnsw.vector_store().info().kind == "faiss-hnsw"
    assert answers(on_hnsw, query) == before


def test_a_target_that_holds_data_needs_overwrite(built, settings, fake_model):
    assert run_cli(built, "migrate", "--to", "memory")[0] == 0
    code, _, err = run_cli(built, "migrate", "--to", "memory")
    assert code == 2 and "already holds 9 vectors" in err and "--overwrite" in err
    code, _, err = run_cli(built, "migrate", "--to", "memory", "--overwrite")
    assert code == 0, err
    assert len(container_for(settings, fake_model, vector_store="memory").vector_store()) == 9


def test_the_source_itself_is_refused(built):
    code, _, err = run_cli(built, "migrate", "--to", "faiss")
    assert code == 2 and "the configured one" in err
    code, _, err = run_cli(built, "migrate", "--database-url", built.settings().database_url)
    assert code == 2 and "configured DATABASE_URL" in err


def test_bad_requests_are_usage_errors(container):
    assert run_cli(container, "migrate")[0] == 2
    code, _, err = run_cli(container, "migrate", "--faiss-index", "hnsw")
    assert code == 2 and "need --to" in err
    code, _, err = run_cli(container, "migrate", "--to", "qdrant")
    assert code == 1 and "run `rebuild` first" in err


def test_sqlite_to_another_database_keeps_ids(built, settings, fake_model, query, tmp_path):
    before = answers(built, query)
    rows = built.repository().list_images()
    built.repository().mark_class_removed("purple-scarf")
    built.repository().mark_images_removed([rows[0]])
    target_url = f"sqlite:///{tmp_path / 'moved.db'}"
    code, out, err = run_cli(built, "migrate", "--database-url", target_url)
    assert code == 0, err
    assert "copied 9 images and 1 facts" in out and f"  DATABASE_URL={target_url}" in out
    moved = container_for(settings, fake_model, database_url=target_url)
    assert moved.repository().list_images() == rows
    assert moved.repository().removals() == built.repository().removals()
    assert moved.repository().get_meta("last_rebuild") == built.repository().get_meta(
        "last_rebuild"
    )
    assert answers(moved, query) == before  # the FAISS index is keyed by the same ids
    assert built.repository().count_images() == 9


def test_sqlite_to_postgresql_and_faiss_to_qdrant_at_once(
    built, settings, fake_model, query, postgres_url
):
    before = answers(built, query)
    code, out, err = run_cli(built, "migrate", "--to", "qdrant", "--database-url", postgres_url)
    assert code == 0, err
    assert "copied 9 images" in out and "copied 9 vectors" in out
    after = container_for(settings, fake_model, vector_store="qdrant", database_url=postgres_url)
    assert after.repository().list_images() == built.repository().list_images()
    assert answers(after, query) == before
    assert after.rebuild_service().run().embedded == 0  # nothing to re-embed on the new back ends


def test_verification_failure_is_reported(built, tmp_path):
    class LosesOne(MemoryVectorStore):
        def add(self, ids, vectors, payloads=None):
            super().add(ids[1:], vectors[1:], None)

    target = LosesOne(tmp_path / "lossy")
    service = MigrateService(
        built.repository(), built.vector_store(), lambda changes: MigrationTarget(store=target)
    )
    with pytest.raises(ImgRecogError, match="verification failed: the source has 9 vectors"):
        service.run({"vector_store": "memory"})
    assert len(built.vector_store()) == 9


def test_passwords_are_hidden():
    url = "postgresql+psycopg://shop:s3cr%40t@db.example:5432/catalogue"
    assert hide_password(url) == "postgresql+psycopg://shop:***@db.example:5432/catalogue"
    assert hide_password("sqlite:///./data/app.db") == "sqlite:///./data/app.db"

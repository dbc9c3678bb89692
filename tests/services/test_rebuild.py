"""Rebuild: incremental, removes deleted files, skips bad ones, survives a crash mid-way."""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from dependency_injector import providers

from app.container import build_container
from app.domain.errors import BackendUnavailable, NotFound
from app.domain.images import ImageInput
from app.services import scanning
from app.services.pipeline import Embedder
from app.services.rebuild import RebuildOptions, RebuildService
from app.services.scanning import content_hash
from conftest import write_product_photo
from tests.fakes import ThumbnailModel


def _consistent(container) -> None:
    """Every vector has a row and every stamped row has a vector."""
    store = container.vector_store()
    rows = container.repository().list_images()
    stamped = [r for r in rows if r.embedding_model is not None]  # unstamped: not embedded yet
    assert all(r.embedding_model == store.model_stamp for r in stamped)
    assert set(store.ids().tolist()) == {r.id for r in stamped}


def test_first_rebuild_indexes_every_image(container, catalogue):
    report = container.rebuild_service().run()
    assert report.embedded == 9 and report.scanned == 9 and not report.skipped
    assert len(container.vector_store()) == 9
    assert container.repository().product_counts() == {
        "red-shoe": 3,
        "green-hat": 3,
        "blue-dress": 3,
    }
    _consistent(container)


def test_second_rebuild_embeds_nothing(container, fake_model):
    container.rebuild_service().run()
    before = fake_model.embedded
    report = container.rebuild_service().run()
    assert fake_model.embedded == before
    assert report.embedded == 0 and report.unchanged == 9


def test_changed_deleted_and_new_files(container, catalogue, fake_model):
    container.rebuild_service().run()
    (catalogue / "red-shoe" / "view0.jpg").unlink()
    write_product_photo(catalogue / "green-hat" / "view1.jpg", (10, 10, 10), seed=99)
    write_product_photo(catalogue / "new" / "sub" / "deep.jpg", (250, 250, 0), seed=5)
    report = container.rebuild_service().run()
    assert (report.embedded, report.removed, report.unchanged) == (2, 1, 7)
    paths = {r.path for r in container.repository().list_images()}
    assert str(catalogue / "red-shoe" / "view0.jpg") not in paths
    deep = [r for r in container.repository().list_images() if r.path.endswith("deep.jpg")]
    assert deep[0].product_id == "sub"  # the folder that directly holds the file
    _consistent(container)


def test_bad_files_are_skipped_with_reason_and_nothing_else_lost(container, catalogue):
    (catalogue / "red-shoe" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (catalogue / "red-shoe" / "notes.jpg").write_text("hello")
    report = container.rebuild_service().run()
    assert report.embedded == 9
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(skipped) == {"broken.jpg", "notes.jpg"}
    assert all(reason for reason in skipped.values())


def test_file_that_turns_corrupt_leaves_the_index(container, catalogue):
    container.rebuild_service().run()
    (catalogue / "red-shoe" / "view1.jpg").write_bytes(b"garbage")
    report = container.rebuild_service().run()
    assert [Path(s.path).name for s in report.skipped] == ["view1.jpg"]
    assert len(container.vector_store()) == 8
    _consistent(container)


def test_full_rebuild_reembeds_everything(container, fake_model):
    container.rebuild_service().run()
    report = container.rebuild_service().run(full=True)
    assert report.embedded == 9 and fake_model.embedded == 18


def test_new_model_reembeds_everything(container, settings):
    container.rebuild_service().run()
    other = ThumbnailModel("thumbnail-other")
    container.embedding_model.override(providers.Object(other))
    container.embedder.reset()
    report = container.rebuild_service().run()
    assert report.embedded == 9 and container.vector_store().model_stamp.startswith(
        "thumbnail-other"
    )


def test_missing_products_folder_is_a_clear_error(container, tmp_path):
    with pytest.raises(NotFound, match="products folder not found"):
        container.rebuild_service().run(tmp_path / "nope")


def test_crash_mid_rebuild_leaves_a_loadable_consistent_index(settings, catalogue, tmp_path):
    for product in ("p1", "p2", "p3"):
        for i in range(4):
            write_product_photo(catalogue / product / f"x{i}.jpg", (40 * i, 90, 160), seed=i)
    crashing = build_container(settings)
    embedder = Embedder(crashing.preprocessor(), ThumbnailModel(fail_after=10), batch_size=3)
    service = RebuildService(
        crashing.repository(),
        crashing.vector_store(),
        embedder,
        RebuildOptions(catalogue, checkpoint_seconds=0.0),  # save after every batch
    )
    with pytest.raises(RuntimeError, match="simulated crash"):
        service.run()

    fresh = build_container(settings)  # as a new process would: load what was saved
    model = ThumbnailModel()
    fresh.embedding_model.override(providers.Object(model))
    saved = len(fresh.vector_store())
    assert 0 < saved <= 10
    _consistent(fresh)
    report = fresh.rebuild_service().run()
    assert not report.skipped and len(fresh.vector_store()) == 21
    assert model.embedded == 21 - saved  # work saved before the crash is kept
    _consistent(fresh)

    clean = build_container(
        settings.model_copy(
            update={"index_dir": tmp_path / "clean", "database_url": f"sqlite:///{tmp_path}/c.db"}
        )
    )
    clean.embedding_model.override(providers.Object(ThumbnailModel()))
    clean.rebuild_service().run()
    query = fresh.vector_store().search(np.ones((1, 192), dtype=np.float32), 21)[0]
    expected = clean.vector_store().search(np.ones((1, 192), dtype=np.float32), 21)[0]

    def paths(container, hits):
        rows = container.repository().get_images([i for i, _ in hits])
        return [(rows[i].path, round(score, 5)) for i, score in hits]

    assert paths(fresh, query) == paths(clean, expected)


def test_symlinked_folders_are_followed_and_loops_cut(container, catalogue, tmp_path):
    extra = tmp_path / "elsewhere" / "linked-product"
    write_product_photo(extra / "a.jpg", (1, 2, 3), seed=1)
    (catalogue / "linked-product").symlink_to(extra, target_is_directory=True)
    (extra / "loop").symlink_to(catalogue, target_is_directory=True)
    report = container.rebuild_service().run()
    assert report.embedded == 10
    assert "linked-product" in container.repository().product_counts()
    shutil.rmtree(tmp_path / "elsewhere")


def test_damaged_index_is_reported_and_rebuild_replaces_it(settings, caplog):
    first = build_container(settings)
    first.embedding_model.override(providers.Object(ThumbnailModel()))
    first.rebuild_service().run()
    manifest = settings.index_dir / "faiss" / "manifest.json"
    manifest.write_text("{ half a manifest")

    second = build_container(settings)  # a new process finds the damage
    second.embedding_model.override(providers.Object(ThumbnailModel()))
    assert len(second.vector_store()) == 0
    assert "damaged" in caplog.text and "rebuild" in caplog.text
    report = second.rebuild_service().run()
    assert report.embedded == 9
    _consistent(second)


def test_switching_metric_needs_and_gets_a_rebuild(settings, caplog):
    first = build_container(settings)
    first.embedding_model.override(providers.Object(ThumbnailModel()))
    first.rebuild_service().run()
    l2 = build_container(settings.model_copy(update={"metric": "l2"}))
    l2.embedding_model.override(providers.Object(ThumbnailModel()))
    assert len(l2.vector_store()) == 0 and "metric 'cosine'" in caplog.text
    assert l2.rebuild_service().run().embedded == 9
    assert l2.vector_store().info().metric == "l2"


def _add_example(container, tmp_path, name="yellow"):
    photo = write_product_photo(tmp_path / "new" / "y.jpg", (230, 210, 20), seed=8)
    return container.gallery_service().add_class(name, ImageInput.files([photo])).added[0]


def test_rebuild_keeps_examples_added_at_run_time(container, catalogue, tmp_path):
    container.rebuild_service().run()
    example = _add_example(container, tmp_path)
    shutil.rmtree(catalogue / "red-shoe")
    report = container.rebuild_service().run(full=True)
    assert report.removed == 3 and report.embedded == 7  # 6 catalogue photos + the example
    rows = {r.id: r for r in container.repository().list_images()}
    assert rows[example.id].source == "example"
    assert example.id in set(container.vector_store().ids().tolist())
    _consistent(container)


def test_new_model_reembeds_examples_too(container, tmp_path):
    container.rebuild_service().run()
    example = _add_example(container, tmp_path)
    other = ThumbnailModel("thumbnail-other")
    container.embedding_model.override(providers.Object(other))
    container.embedder.reset()
    report = container.rebuild_service().run()
    assert report.embedded == 10 and other.embedded == 10
    row = container.repository().get_images([example.id])[example.id]
    assert row.embedding_model == container.embedder().stamp
    _consistent(container)


def test_examples_folder_inside_the_products_folder_is_not_catalogue(settings, catalogue, tmp_path):
    inside = settings.model_copy(update={"examples_dir": catalogue / "_examples"})
    container = build_container(inside)
    container.embedding_model.override(providers.Object(ThumbnailModel()))
    container.rebuild_service().run()
    _add_example(container, tmp_path, name="red-shoe-2")
    report = container.rebuild_service().run()
    assert (report.excluded, report.embedded, report.removed) == (1, 0, 0)
    assert container.repository().source_counts()["red-shoe-2"] == {"example": 1}


def test_no_change_rebuild_reads_no_file_and_older_rows_gain_fingerprints(
    container, catalogue, fake_model, monkeypatch
):
    """Size + mtime recorded per file: a no-change rebuild reads no file; rows made before the
    fingerprints existed (mtime NULL) are read once, not re-embedded; --full reads every file."""
    old = time.time_ns() - 3600 * 10**9
    for path in catalogue.rglob("*.*"):
        os.utime(path, ns=(old, old))
    reads: list[Path] = []
    monkeypatch.setattr(scanning, "content_hash", lambda p: reads.append(p) or content_hash(p))
    container.rebuild_service().run()
    repo = container.repository()
    repo.upsert_images([replace(r, mtime_ns=None) for r in repo.list_images()])  # as migrated
    reads.clear()
    report = container.rebuild_service().run()
    assert (len(reads), report.embedded, fake_model.embedded) == (9, 0, 9)
    assert {r.mtime_ns for r in repo.list_images()} == {old}
    reads.clear()
    assert container.rebuild_service().run().unchanged == 9 and reads == []
    assert container.rebuild_service().run(full=True).embedded == 9 and len(reads) == 9


def test_a_newer_generation_that_does_not_load_is_replaced_by_rebuild_full(settings, tmp_path):
    """`second` holds the index as rebuilt; `first` then saves a newer generation (a class add),
    which gets damaged. `second` keeps serving what it holds, its plain rebuild is refused in one
    line (saving would drop the class's vectors), and `rebuild --full` replaces the damaged
    generation with everything, the class added meanwhile included."""
    first, second = (build_container(settings) for _ in range(2))
    for c in (first, second):
        c.embedding_model.override(providers.Object(ThumbnailModel()))
    first.rebuild_service().run()
    assert len(second.vector_store()) == 9
    _add_example(first, tmp_path)
    index = settings.index_dir / "faiss"
    for name in json.loads((index / "manifest.json").read_text())["files"].values():
        (index / name).write_bytes(b"damaged")
    with pytest.raises(BackendUnavailable, match=r"could not be loaded.*rebuild --full"):
        second.rebuild_service().run()
    assert len(second.vector_store()) == 9
    assert second.rebuild_service().run(full=True).embedded == 10
    fresh = build_container(settings)
    fresh.embedding_model.override(providers.Object(ThumbnailModel()))
    assert len(fresh.vector_store()) == 10
    _consistent(fresh)


def test_killed_before_the_rows_of_deleted_files_go_the_next_rebuild_removes_them(
    settings, catalogue, monkeypatch
):
    """Killed between the save without their vectors and the delete of their rows: the rows
    are already unstamped (never stamped without a vector), and the next rebuild deletes them."""
    first = build_container(settings)
    first.embedding_model.override(providers.Object(ThumbnailModel()))
    first.rebuild_service().run()
    (catalogue / "red-shoe" / "view0.jpg").unlink()

    def killed(_ids) -> None:
        raise KeyboardInterrupt  # stands in for SIGKILL: nothing after it runs

    monkeypatch.setattr(first.repository(), "delete_images", killed)
    with pytest.raises(KeyboardInterrupt):
        first.rebuild_service().run()
    monkeypatch.undo()
    again = build_container(settings)  # a new process: what was saved
    again.embedding_model.override(providers.Object(ThumbnailModel()))
    (gone,) = [r for r in again.repository().list_images() if r.path.endswith("red-shoe/view0.jpg")]
    assert gone.embedding_model is None and gone.id not in set(again.vector_store().ids().tolist())
    assert again.rebuild_service().run().removed == 1
    assert len(again.repository().list_images()) == 8
    _consistent(again)

"""Live class management: add, append, replace, remove classes and examples; list; persistence
across a restart (a new container over the same SQLite database and FAISS index)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dependency_injector import providers

from app.container import build_container
from app.domain.errors import Conflict, ImageError, InvalidInput, ModelMismatch, NotFound
from app.domain.images import ImageInput
from conftest import write_product_photo
from tests.fakes import ThumbnailModel

YELLOW = (230, 210, 20)
PURPLE = (120, 20, 140)


def photos(folder: Path, colour, n: int, seed: int = 0) -> list[Path]:
    return [write_product_photo(folder / f"{i}.jpg", colour, seed=seed + i) for i in range(n)]


def images(folder: Path, colour, n: int) -> list[ImageInput]:
    """`photos`, as the images to embed that the gallery commands take."""
    return ImageInput.files(photos(folder, colour, n))


def predict(container, colour, seed=500) -> str | None:
    query = write_product_photo(Path(container.settings().index_dir).parent / "q.jpg", colour, seed)
    outcome = container.retrieval_classifier().predict_images(ImageInput.files([query]))
    return outcome.predictions[0].class_name


def consistent(container) -> None:
    """Every vector has a row, every stamped row a vector; example files exist."""
    store = container.vector_store()
    rows = container.repository().list_images()
    assert set(store.ids().tolist()) == {r.id for r in rows if r.embedding_model}
    assert all(Path(r.path).is_file() for r in rows if r.source == "example")


@pytest.fixture
def gallery(container):
    container.rebuild_service().run()
    return container


def test_add_class_copies_images_and_predicts_it_at_once(gallery, tmp_path, settings):
    originals = photos(tmp_path / "in", YELLOW, 3)
    change = gallery.gallery_service().add_class("yellow-bag", ImageInput.files(originals))
    assert len(change.added) == 3 and not change.skipped
    assert {r.source for r in change.added} == {"example"}
    for row in change.added:
        path = Path(row.path)
        assert path.parent == settings.examples_dir / "yellow-bag"
        assert path.stem == row.content_hash and path.suffix == ".jpg"
    for original in originals:
        original.unlink()  # the gallery keeps its own copies
    assert predict(gallery, YELLOW) == "yellow-bag"
    consistent(gallery)


def test_a_gallery_can_start_from_examples_alone(container, tmp_path):
    service = container.gallery_service()
    service.add_class("yellow", images(tmp_path / "y", YELLOW, 2))
    service.add_class("purple", images(tmp_path / "p", PURPLE, 2))
    assert predict(container, PURPLE) == "purple"
    assert container.vector_store().model_stamp == container.embedder().stamp


def test_adding_an_existing_class_or_updating_a_missing_one_is_refused(gallery, tmp_path):
    service = gallery.gallery_service()
    with pytest.raises(Conflict, match="class update red-shoe"):
        service.add_class("red-shoe", images(tmp_path, YELLOW, 1))
    with pytest.raises(NotFound, match=r"'nope' not found \(classes: blue-dress, green-hat"):
        service.update_class("nope", images(tmp_path, YELLOW, 1))
    with pytest.raises(NotFound, match="not found"):
        service.remove_class("nope")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a/b", "path separators"),
        ("a\\b", "path separators"),
        ("..", "'.' and '..'"),
        ("x" * 101, "longer than 100"),
        ("bad\nname", "control characters"),
        (" padded", "spaces"),
    ],
)
def test_bad_class_names_are_refused_clearly(container, tmp_path, name, problem):
    with pytest.raises(InvalidInput, match=problem):
        container.gallery_service().add_class(name, images(tmp_path, YELLOW, 1))


def test_update_appends_examples(gallery, tmp_path):
    service = gallery.gallery_service()
    before = {r.id for r in gallery.repository().list_images("red-shoe")}
    change = service.update_class("red-shoe", images(tmp_path / "more", (190, 40, 40), 2))
    after = {r.id for r in gallery.repository().list_images("red-shoe")}
    assert before < after and len(after) == 5 and not change.removed
    consistent(gallery)


def test_update_replace_swaps_every_example_and_rebuild_keeps_it_so(gallery, tmp_path):
    service = gallery.gallery_service()
    first = service.update_class("green-hat", images(tmp_path / "a", YELLOW, 2))
    change = service.update_class("green-hat", images(tmp_path / "b", PURPLE, 2), replace_all=True)
    assert len(change.removed) == 5  # 3 catalogue photos + the 2 examples added before
    assert not any(Path(r.path).exists() for r in first.added)  # replaced copies are deleted
    rows = gallery.repository().list_images("green-hat")
    assert {r.id for r in rows} == {r.id for r in change.added}
    assert predict(gallery, PURPLE) == "green-hat"
    report = gallery.rebuild_service().run()  # the replaced catalogue photos stay out
    assert report.excluded == 3 and report.embedded == 0
    assert len(gallery.repository().list_images("green-hat")) == 2
    consistent(gallery)


def test_replace_with_an_image_already_there_keeps_it(gallery, tmp_path):
    service = gallery.gallery_service()
    (kept,) = service.update_class("red-shoe", images(tmp_path, YELLOW, 1)).added
    again = service.update_class(
        "red-shoe", ImageInput.files([tmp_path / "0.jpg"]), replace_all=True
    )
    assert (
        [r.id for r in again.stored] == [kept.id] and not again.added and Path(kept.path).is_file()
    )
    assert [r.id for r in gallery.repository().list_images("red-shoe")] == [kept.id]
    consistent(gallery)


def test_remove_class_and_rebuild_does_not_bring_it_back(gallery, tmp_path):
    service = gallery.gallery_service()
    (example,) = service.update_class("blue-dress", images(tmp_path, PURPLE, 1)).added
    change = service.remove_class("blue-dress")
    assert len(change.removed) == 4 and not Path(example.path).exists()
    assert "blue-dress" not in gallery.repository().product_counts()
    assert "blue-dress" not in gallery.retrieval_classifier().snapshot().gallery.class_names
    report = gallery.rebuild_service().run()
    assert (report.excluded, report.embedded) == (3, 0)
    assert "blue-dress" not in gallery.repository().product_counts()
    consistent(gallery)


def test_class_add_after_remove_clears_the_mark(gallery, tmp_path):
    service = gallery.gallery_service()
    service.remove_class("blue-dress")
    service.add_class("blue-dress", images(tmp_path, PURPLE, 1))
    report = gallery.rebuild_service().run()  # the catalogue photos come back
    assert report.excluded == 0 and report.embedded == 3
    counts = gallery.repository().source_counts()["blue-dress"]
    assert counts == {"catalogue": 3, "example": 1}


@pytest.mark.parametrize("mode", ["add after remove", "replace"])
def test_a_failed_change_puts_the_removal_marks_back(gallery, tmp_path, monkeypatch, mode):
    """`class add` clears the class's removal marks, `--replace` marks the catalogue photos it
    takes out: when the change then fails (here the index save), the marks are as before, so
    `rebuild` still leaves out exactly what it left out and brings back nothing else."""
    service, repo = gallery.gallery_service(), gallery.repository()
    if mode == "replace":
        service.update_class("green-hat", images(tmp_path / "a", YELLOW, 1))
    else:
        service.remove_class("green-hat")
    before, rows = repo.removals(), repo.list_images("green-hat")

    def full_disk() -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gallery.vector_store(), "save", full_disk)
    new = photos(tmp_path / "b", PURPLE, 2)
    with pytest.raises(OSError, match="No space"):
        if mode == "replace":
            service.update_class("green-hat", ImageInput.files(new), replace_all=True)
        else:
            service.add_class("green-hat", ImageInput.files(new))
    assert repo.removals() == before and repo.list_images("green-hat") == rows
    monkeypatch.undo()
    report = gallery.rebuild_service().run()
    assert (report.excluded, report.embedded) == ((0, 0) if mode == "replace" else (3, 0))
    assert len(repo.list_images("green-hat")) == len(rows)
    consistent(gallery)


def test_rows_a_failed_change_could_not_take_back_are_dropped_by_the_next_rebuild(
    gallery, tmp_path, monkeypatch
):
    """The database itself is full: the index save fails, and so does undo's delete of the new
    rows. They stay unstamped, without a vector or a copy; `stats` counts them as pending and
    the next `rebuild` drops them (a retry of the same add adopts them, as before)."""
    service, repo = gallery.gallery_service(), gallery.repository()

    def full(*_args) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gallery.vector_store(), "save", full)
    monkeypatch.setattr(repo, "delete_images", full)
    with pytest.raises(OSError, match="No space"):
        service.add_class("yellow-bag", images(tmp_path, YELLOW, 2))
    monkeypatch.undo()
    left = repo.list_images("yellow-bag")
    assert len(left) == 2 and not any(r.embedding_model or Path(r.path).exists() for r in left)
    report = gallery.rebuild_service().run()
    assert repo.list_images("yellow-bag") == [] and report.removed == 2 and not report.skipped
    consistent(gallery)
    again = service.add_class("yellow-bag", images(tmp_path, YELLOW, 2))
    assert len(again.added) == 2
    assert predict(gallery, YELLOW) == "yellow-bag"


def test_remove_examples_by_id(gallery, tmp_path):
    service = gallery.gallery_service()
    (example,) = service.update_class("red-shoe", images(tmp_path, YELLOW, 1)).added
    catalogue_row = gallery.repository().list_images("green-hat")[0]
    with pytest.raises(NotFound, match="no example with id 998, 999"):
        service.remove_examples([example.id, 998, 999])
    assert len(gallery.vector_store()) == 10  # nothing removed on error
    removed = service.remove_examples([example.id, catalogue_row.id])
    assert [r.id for r in removed] == [example.id, catalogue_row.id]
    assert not Path(example.path).exists() and Path(catalogue_row.path).exists()
    assert len(gallery.vector_store()) == 8
    report = gallery.rebuild_service().run()
    assert report.excluded == 1 and catalogue_row.path not in {
        r.path for r in gallery.repository().list_images()
    }
    consistent(gallery)


def test_info_lists_classes_by_source(gallery, tmp_path):
    service = gallery.gallery_service()
    service.add_class("yellow", images(tmp_path, YELLOW, 2))
    info = service.info()
    by_name = {c.class_name: (c.catalogue, c.examples) for c in info.classes}
    assert by_name == {
        "blue-dress": (3, 0),
        "green-hat": (3, 0),
        "red-shoe": (3, 0),
        "yellow": (0, 2),
    }
    assert info.size == 11 and info.model_stamp == info.current_model == gallery.embedder().stamp
    assert [r.source for r in service.examples("yellow")] == ["example", "example"]


def test_uploads_as_bytes(container, tmp_path):
    data = photos(tmp_path, YELLOW, 1)[0].read_bytes()
    change = container.gallery_service().add_class("up", [ImageInput.upload("upload.PNG", data)])
    assert Path(change.added[0].path).suffix == ".png"
    with pytest.raises(ImageError, match="class 'bad' unchanged"):
        container.gallery_service().add_class("bad", [ImageInput.upload("x.jpg", b"not an image")])
    assert "bad" not in container.repository().product_counts()
    assert not (container.settings().examples_dir / "bad").exists() or not any(
        (container.settings().examples_dir / "bad").iterdir()
    )


def test_bad_files_are_skipped_and_the_good_ones_added(container, tmp_path):
    good = photos(tmp_path, YELLOW, 1)
    (tmp_path / "bad.jpg").write_bytes(b"garbage")
    change = container.gallery_service().add_class(
        "mixed", ImageInput.files([*good, tmp_path / "bad.jpg", tmp_path / "missing.jpg"])
    )
    assert len(change.added) == 1
    assert {Path(s.path).name for s in change.skipped} == {"missing.jpg", "bad.jpg"}
    assert len(list((container.settings().examples_dir / "mixed").iterdir())) == 1


def test_a_gallery_of_another_model_refuses_examples(gallery, tmp_path):
    gallery.embedding_model.override(providers.Object(ThumbnailModel("other")))
    gallery.embedder.reset()
    with pytest.raises(ModelMismatch, match="run `rebuild`"):
        gallery.gallery_service().add_class("x", images(tmp_path, YELLOW, 1))


def test_changes_survive_a_restart(gallery, settings, tmp_path):
    service = gallery.gallery_service()
    service.add_class("yellow", images(tmp_path / "y", YELLOW, 2))
    service.update_class("green-hat", images(tmp_path / "p", PURPLE, 2), replace_all=True)
    service.remove_class("blue-dress")
    (one,) = gallery.repository().list_images("red-shoe")[:1]
    service.remove_examples([one.id])
    before = service.info()
    queries = np.random.default_rng(3).standard_normal((5, 192)).astype(np.float32)
    predicted = gallery.retrieval_classifier().predict_vectors(queries)

    restarted = build_container(settings)  # a new process: load what was saved
    restarted.embedding_model.override(providers.Object(ThumbnailModel()))
    assert restarted.gallery_service().info() == before
    assert restarted.retrieval_classifier().predict_vectors(queries) == predicted
    assert predict(restarted, PURPLE) == "green-hat"
    restarted.rebuild_service().run()
    assert restarted.gallery_service().info().classes == before.classes
    consistent(restarted)

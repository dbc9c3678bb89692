"""The crash-safe write order of gallery changes: the process is killed after each write of a
`class update --replace`, `class remove` and `examples remove` in turn. At every point the
saved gallery is consistent (every stamped row has its vector, every vector a row), the class
being replaced keeps stamped examples, and the next `rebuild` converges: what was added is
embedded, and once the change began deleting what it replaces, that is gone for good."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from dependency_injector import providers

from app.container import build_container
from app.services.gallery_undo import GalleryUndo
from tests.fakes import ThumbnailModel
from tests.services.test_gallery import PURPLE, YELLOW, images
from tests.support.relocated import state_in

WRITES = {  # the writes of a change that a kill can fall between
    "repository": ("upsert_images", "unstamp_images", "delete_images", "mark_images_removed"),
    "store": ("save",),
    "files": ("delete",),
}


class Killed(BaseException):
    """SIGKILL as seen from inside: nothing after it runs, no undo either."""


def restarted(settings):
    c = build_container(settings)
    c.embedding_model.override(providers.Object(ThumbnailModel()))
    return c


def kill_after(service, writes: int, monkeypatch) -> None:
    """The process dies right after its `writes`-th write."""
    done = [0]
    for holder, names in WRITES.items():
        target = getattr(service, holder)
        for name in names:
            original = getattr(target, name)

            def write(*args, _original=original, **kwargs):
                result = _original(*args, **kwargs)
                done[0] += 1
                if done[0] == writes:
                    raise Killed
                return result

            monkeypatch.setattr(target, name, write)
    monkeypatch.setattr(GalleryUndo, "undo", lambda self: None)


def check_saved_state(settings, cls: str) -> list:
    """What a restarted process loads: consistent; the stamped rows of `cls`."""
    c = restarted(settings)
    rows, store = c.repository().list_images(), c.vector_store()
    stamped = {r.id for r in rows if r.embedding_model == store.model_stamp}
    assert not {r.id for r in rows if r.embedding_model} - stamped
    assert set(store.ids().tolist()) <= {r.id for r in rows}  # every vector has a row
    assert stamped <= set(store.ids().tolist())  # every stamped row has its vector
    return [r for r in rows if r.product_id == cls and r.id in stamped]


def rebuilt(settings) -> dict[str, set[str]]:
    """The classes after the next rebuild (asserted consistent), by class: the file names."""
    c = restarted(settings)
    c.rebuild_service().run()
    rows, store = c.repository().list_images(), c.vector_store()
    assert all(r.embedding_model == store.model_stamp for r in rows)
    assert set(store.ids().tolist()) == {r.id for r in rows}
    assert all(Path(r.path).is_file() for r in rows)
    by_class: dict[str, set[str]] = {}
    for r in rows:
        by_class.setdefault(r.product_id, set()).add(Path(r.path).name)
    return by_class


def killed_runs(settings, tmp_path, monkeypatch, change):
    """`change(service)` on a fresh gallery (the catalogue, plus two examples of green-hat),
    killed after its 1st, 2nd, ... write until it completes. Yields (writes, the completed
    change or None, settings of that gallery, green-hat's files before the change: name to
    source)."""
    for writes in range(1, 20):
        local = state_in(settings, tmp_path / f"kill{writes}")
        c = restarted(local)
        c.rebuild_service().run()
        c.gallery_service().update_class("green-hat", images(tmp_path / "a", YELLOW, 2))
        before = {Path(r.path).name: r.source for r in c.repository().list_images("green-hat")}
        service = c.gallery_service()
        kill_after(service, writes, monkeypatch)
        try:
            done = change(service)
        except Killed:
            done = None
        monkeypatch.undo()
        yield writes, done, local, before
        if done is not None:
            return
    pytest.fail("the change never completed")


def test_a_replace_killed_after_any_write_leaves_a_gallery_rebuild_finishes(
    settings, tmp_path, monkeypatch
):
    def replace(service):
        return service.update_class("green-hat", images(tmp_path / "b", PURPLE, 2), True)

    survivors, added = [], []
    for writes, done, local, before in killed_runs(settings, tmp_path, monkeypatch, replace):
        assert check_saved_state(local, "green-hat"), f"no example left, killed after {writes}"
        classes = rebuilt(local)["green-hat"]
        added.append(len(classes - set(before)))
        survivors.append(classes & set(before))
    assert writes > 5 and classes == {Path(r.path).name for r in done.added}
    # once its rows are written, what a change adds is embedded by the next rebuild
    assert set(added) == {0, 2} and added == sorted(added), added
    every = set(before)
    examples = {name for name, source in before.items() if source == "example"}
    # the replaced photos: all back (killed before any mark), then the replaced examples only
    # (killed before their copies went), then none (from then on rebuild finishes the replace)
    assert survivors[0] == every and survivors[-1] == set()
    assert all(s in (every, examples, set()) for s in survivors), survivors
    assert all(a >= b for a, b in itertools.pairwise(survivors)), survivors


def test_a_removal_killed_after_any_write_leaves_a_gallery_rebuild_finishes(
    settings, tmp_path, monkeypatch
):
    def remove(service):
        green = service.repository.list_images("green-hat")
        example = next(r for r in green if r.source == "example")
        catalogue = next(r for r in green if r.source == "catalogue")
        return service.remove_examples([example.id, catalogue.id])

    survivors = []
    for writes, done, local, before in killed_runs(settings, tmp_path, monkeypatch, remove):
        check_saved_state(local, "green-hat")
        survivors.append(rebuilt(local)["green-hat"])
    assert writes > 3 and survivors[-1] == set(before) - {Path(r.path).name for r in done}
    assert all(a >= b for a, b in itertools.pairwise(survivors)), survivors
    assert len(survivors[0]) == 4 and all(len(s) in (4, 3) for s in survivors[1:]), survivors

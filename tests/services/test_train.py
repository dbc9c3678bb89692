"""train: photos in <category>/<attribute>/<class>/ folders -> a saved head; embeddings cached."""

from __future__ import annotations

import pytest

from app.domain.errors import ImgRecogError, NotFound
from app.domain.heads import TrainOptions
from conftest import COLOURS, write_training_set

FAST = TrainOptions(epochs=40, lr=1e-2, val_fraction=0.25, seed=0)
TWO = {"red": COLOURS["red-shoe"], "blue": COLOURS["blue-dress"]}


@pytest.fixture
def training_dir(settings):
    root = settings.training_dir
    write_training_set(root, "shoe", "color", TWO, per_class=8)
    write_training_set(root, "hat", "color", {"green": COLOURS["green-hat"], **TWO}, per_class=4)
    return root


def test_train_one_head(classify_container, settings, training_dir):
    report = classify_container.train_service().train("shoe", "color", FAST)
    head = report.head
    assert head.classes == ["blue", "red"] and (head.train_size, head.val_size) == (12, 4)
    assert head.val_accuracy == 1.0 and report.skipped == []
    assert head.model_stamp == classify_container.embedder().stamp
    assert (settings.models_dir / "shoe" / "color" / "model.pt").is_file()
    assert (settings.models_dir / "shoe" / "color" / "classes.json").is_file()


def test_retraining_reuses_cached_embeddings(classify_container, colour_model, training_dir):
    service = classify_container.train_service()
    service.train("shoe", "color", FAST)
    assert colour_model.embedded == 16
    service.train("shoe", "color", TrainOptions(epochs=5, lr=1e-3))
    assert colour_model.embedded == 16
    (training_dir / "shoe" / "color" / "red" / "7.jpg").unlink()
    from conftest import write_product_photo

    write_product_photo(training_dir / "shoe" / "color" / "red" / "new.jpg", (190, 20, 20), 999)
    service.train("shoe", "color", FAST)
    assert colour_model.embedded == 17


def test_train_all_and_bad_photos(classify_container, training_dir):
    (training_dir / "hat" / "color" / "red" / "broken.jpg").write_bytes(b"nope")
    reports = classify_container.train_service().train_all(FAST)
    assert [r.head.key for r in reports] == ["hat/color", "shoe/color"]
    assert [s.path.endswith("broken.jpg") for s in reports[0].skipped] == [True]
    assert reports[0].head.classes == ["blue", "green", "red"]


def test_clear_errors(classify_container, settings):
    service = classify_container.train_service()
    with pytest.raises(NotFound, match="no training data under"):
        service.train_all(FAST)
    with pytest.raises(NotFound, match=r"shoe/color \(expected <class>/"):
        service.train("shoe", "color", FAST)
    write_training_set(settings.training_dir, "shoe", "color",
                       {"red": COLOURS["red-shoe"]})  # fmt: skip
    with pytest.raises(ImgRecogError, match="at least two classes"):
        service.train("shoe", "color", FAST)
    with pytest.raises(ImgRecogError, match="plain folder name"):
        service.train("..", "color", FAST)

"""`calibrate`: thresholds from labelled validation photos, stored with the gallery, used by
predictions from then on (and only for the model and scoring setup they were made for)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from app.domain.errors import InvalidInput, NotFound
from app.domain.images import ImageInput
from app.services.calibration_store import CALIBRATION_KEY, read_calibrations
from conftest import COLOURS, write_product_photo
from tests.fakes import ThumbnailModel

STRANGER = (230, 210, 20)  # a class the gallery does not have


@pytest.fixture
def gallery(container):
    container.rebuild_service().run()
    return container


@pytest.fixture
def validation(tmp_path) -> Path:
    """Two photos per gallery class, and two of a class the gallery does not know."""
    root = tmp_path / "validation"
    for i, (product, colour) in enumerate(COLOURS.items()):
        for j in range(2):
            write_product_photo(root / product / f"{j}.jpg", colour, seed=700 + 10 * i + j)
    for j in range(2):
        write_product_photo(root / "stranger" / f"{j}.jpg", STRANGER, seed=800 + j)
    return root


def test_calibrate_stores_thresholds_that_predictions_then_use(gallery, validation):
    report = gallery.calibration_service().calibrate(validation, target_precision=1.0)
    assert report.record.precision == 1.0 and report.record.queries == 8
    assert report.unknown_classes == ["stranger"] and report.aggregation == "max"
    assert report.accuracy == 0.75  # the strangers are always wrong
    stored = read_calibrations(gallery.repository(), gallery.embedder().stamp)
    assert stored == {"max:t=0.05": report.record}

    outcome = gallery.retrieval_classifier().predict_images(ImageInput.files([validation]))
    by_class = {}
    for image, prediction in zip(outcome.images, outcome.predictions, strict=True):
        by_class.setdefault(Path(image).parent.name, []).append(prediction)
    assert all(p.unclassifiable for p in by_class["stranger"])
    accepted = [p for name, ps in by_class.items() for p in ps if not p.unclassifiable]
    assert len(accepted) == round(report.record.coverage * 8)
    assert all(p.class_name in COLOURS for p in accepted)


def test_calibration_is_per_scoring_setup_and_can_be_cleared(gallery, validation):
    service = gallery.calibration_service()
    service.calibrate(validation, target_precision=1.0, aggregation="knn")
    stamp = gallery.embedder().stamp
    assert set(read_calibrations(gallery.repository(), stamp)) == {"knn:k=20:similarity"}
    classifier = gallery.retrieval_classifier()
    snapshot = classifier.snapshot()
    assert (
        classifier.thresholds(classifier.params("max"), snapshot) == classifier.options.thresholds
    )
    assert service.clear() == 1
    assert read_calibrations(gallery.repository(), stamp) == {}


def test_calibration_of_another_model_is_not_used(gallery, validation, tmp_path):
    gallery.calibration_service().calibrate(validation, target_precision=1.0)
    gallery.embedding_model.override(providers.Object(ThumbnailModel("other")))
    gallery.embedder.reset()
    gallery.rebuild_service().run()
    classifier = gallery.retrieval_classifier()
    assert classifier.snapshot().calibration == {}


def test_unreachable_target_changes_nothing(gallery, tmp_path):
    strangers = tmp_path / "strangers"
    for j in range(3):
        write_product_photo(strangers / "stranger" / f"{j}.jpg", STRANGER, seed=j)
    with pytest.raises(InvalidInput, match=r"no thresholds reach precision 0\.9"):
        gallery.calibration_service().calibrate(strangers, target_precision=0.9)
    assert gallery.repository().get_meta(CALIBRATION_KEY) is None


def test_bad_arguments(gallery, tmp_path):
    service = gallery.calibration_service()
    with pytest.raises(InvalidInput, match="target precision"):
        service.calibrate(tmp_path, target_precision=1.5)
    with pytest.raises(NotFound, match="queries folder not found"):
        service.calibrate(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match="no photos"):
        service.calibrate(tmp_path / "empty")


def test_damaged_calibration_is_ignored(gallery, caplog):
    gallery.repository().set_meta(CALIBRATION_KEY, "{not json")
    with gallery.gallery_guard().writing():  # the end of a write refreshes the snapshot
        pass
    classifier = gallery.retrieval_classifier()
    assert classifier.snapshot().calibration == {}
    assert "damaged calibration" in caplog.text

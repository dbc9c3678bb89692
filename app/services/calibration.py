"""Use case: `calibrate` — pick the rejection thresholds of classification by retrieval from
labelled validation photos (class folders) for a target precision, and store them with the
gallery (for the current model and scoring setup). Predictions use them from then on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.domain.calibration import CalibrationRecord, choose_thresholds
from app.domain.errors import InvalidInput, NotFound
from app.domain.images import ImageInput
from app.domain.models import SkippedFile
from app.domain.retrieval_scoring import margins
from app.interfaces.repository import Repository
from app.services.calibration_store import clear_calibrations, write_calibration
from app.services.gallery_guard import GalleryGuard
from app.services.retrieval import RetrievalClassifier
from app.services.scanning import iter_image_files


@dataclass
class CalibrationReport:
    record: CalibrationRecord
    model_stamp: str
    aggregation: str
    accuracy: float  # top-1 accuracy of all queries (no rejection)
    skipped: list[SkippedFile] = field(default_factory=list)
    unknown_classes: list[str] = field(default_factory=list)  # query classes not in the gallery


@dataclass(eq=False)
class CalibrationService:
    classifier: RetrievalClassifier
    repository: Repository
    guard: GalleryGuard

    def calibrate(
        self, queries_dir: Path, target_precision: float = 0.95, aggregation: str | None = None
    ) -> CalibrationReport:
        """Thresholds with the best coverage at `target_precision` on the photos under
        `queries_dir` (class = the folder that directly holds a photo)."""
        if not 0.0 < target_precision <= 1.0:
            raise InvalidInput(f"target precision must be in (0, 1], got {target_precision}")
        photos = _labelled_photos(queries_dir)
        snapshot = self.classifier.snapshot()
        batch = self.classifier.embed_images(photos)
        if not batch.items:
            raise NotFound(f"no usable photos under {queries_dir}")
        scored = self.classifier.score_vectors(batch.vectors, aggregation)
        probabilities = scored.scores.probabilities
        names = np.asarray(scored.class_names, dtype=object)
        truth = np.asarray([p.path.parent.name for p in batch.items], dtype=object)
        correct = names[probabilities.argmax(axis=1)] == truth
        choice = choose_thresholds(
            scored.scores.best_similarity, margins(probabilities), correct, target_precision
        )
        if not choice.reached:
            raise InvalidInput(
                f"no thresholds reach precision {target_precision:g} on these {choice.queries} "
                f"photos (top-1 accuracy {correct.mean():.3f}, best precision "
                f"{choice.precision:.3f}): lower --target-precision or add examples"
            )
        record = CalibrationRecord(
            scoring_key=scored.params.key,
            thresholds=choice.thresholds,
            target_precision=target_precision,
            precision=choice.precision,
            coverage=choice.coverage,
            queries=choice.queries,
            calibrated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        with self.guard.writing():
            write_calibration(self.repository, snapshot.model_stamp or "", record)
        return CalibrationReport(
            record=record,
            model_stamp=snapshot.model_stamp or "",
            aggregation=scored.params.aggregation,
            accuracy=float(correct.mean()),
            skipped=batch.skipped,
            unknown_classes=sorted(set(truth.tolist()) - set(scored.class_names)),
        )

    def clear(self) -> int:
        """Forget the calibrated thresholds of the gallery's model (the settings' apply again)."""
        stamp = self.classifier.snapshot().model_stamp or ""
        with self.guard.writing():
            return clear_calibrations(self.repository, stamp)


def _labelled_photos(queries_dir: Path) -> list[ImageInput]:
    if not queries_dir.is_dir():
        raise NotFound(f"queries folder not found: {queries_dir}")
    photos = ImageInput.files(iter_image_files(queries_dir))
    if not photos:
        raise NotFound(f"no photos under {queries_dir} (want class folders of photos)")
    return photos

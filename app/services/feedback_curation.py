"""Use case: turn verdicts into data. `promote` adds confirmed predictions to the gallery as new
examples of their class (rejected ones stay recorded as hard negatives); `export` writes judged
query images into class folders for `split` / `finetune` and `train`."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from app.domain.errors import InvalidInput, NotFound
from app.domain.feedback import BAD, GOOD, Judgement
from app.domain.gallery import validate_class_name
from app.domain.images import ImageInput
from app.domain.models import SkippedFile
from app.interfaces.exports import DatasetExport
from app.interfaces.feedback import FeedbackStore
from app.services.gallery import GalleryService

HARD_NEGATIVES = "hard_negatives.csv"


@dataclass
class PromoteReport:
    promoted: dict[str, int] = field(default_factory=dict)  # class -> examples added
    hard_negatives: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass
class ExportReport:
    directory: Path
    images: dict[str, int] = field(default_factory=dict)  # class -> images written
    hard_negatives: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass(eq=False)
class FeedbackCuration:
    feedback: FeedbackStore
    gallery: GalleryService
    export_to: DatasetExport  # where `export` copies photos and writes the table

    def promote(self) -> PromoteReport:
        """Each confirmed (good) verdict not promoted yet: its query image becomes an example of
        the judged class (a class not in the gallery yet is created)."""
        report = PromoteReport()
        judged = self.feedback.list_judgements()
        report.hard_negatives = sum(1 for j in judged if j.verdict == BAD)
        by_class: dict[str, list[Judgement]] = defaultdict(list)
        for j in judged:
            if j.verdict != GOOD or j.promoted:
                continue
            problem = _unusable(j)
            if problem:  # one bad stored verdict never blocks the others
                report.skipped.append(problem)
                continue
            by_class[j.product_id].append(j)
        for class_name, items in sorted(by_class.items()):
            sources = list(dict.fromkeys(ImageInput.file(str(j.query_ref)) for j in items))
            try:
                change = self.gallery.update_class(class_name, sources)
            except NotFound:
                change = self.gallery.add_class(class_name, sources)
            report.promoted[class_name] = len(change.added)
            report.skipped.extend(change.skipped)
            self.feedback.mark_promoted([j.id for j in items if j.id is not None])
        return report

    def export(self, directory: Path) -> ExportReport:
        """DIR/<class>/<query hash>_0<ext> for every confirmed verdict (one group per query, as
        `split` expects), and DIR/hard_negatives.csv listing the rejected ones."""
        report = ExportReport(Path(directory))
        judged = self.feedback.list_judgements()
        for j in judged:
            if j.verdict != GOOD:
                continue
            problem = _unusable(j)
            if problem:
                report.skipped.append(problem)
                continue
            source = Path(j.query_ref)
            target = report.directory / j.product_id / f"{j.query_hash}_0{source.suffix}"
            if self.export_to.copy(source, target):
                report.images[j.product_id] = report.images.get(j.product_id, 0) + 1
        bad = [j for j in judged if j.verdict == BAD]
        self.export_to.table(
            report.directory / HARD_NEGATIVES,
            ["query_hash", "query_image", "not_class", "image_id", "note"],
            [[j.query_hash, j.query_ref, j.product_id, j.image_id, j.note] for j in bad],
        )
        report.hard_negatives = len(bad)
        return report


def _unusable(j: Judgement) -> SkippedFile | None:
    """Why a confirmed verdict cannot become an example (None when it can): its query image is
    gone, or its product id (stored before ids were checked) cannot name a class."""
    if j.query_ref is None or not Path(j.query_ref).is_file():
        return SkippedFile(str(j.query_ref), "query image not kept")
    try:
        validate_class_name(j.product_id, "product id")
    except InvalidInput as exc:
        return SkippedFile(str(j.query_ref), f"verdict {j.id}: {exc}")
    return None

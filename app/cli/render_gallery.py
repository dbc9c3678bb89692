"""Text and JSON for the gallery commands (`class ...`, `examples remove`, `calibrate`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nothing heavy at `--help` time
    from app.domain.gallery import GalleryChange, GalleryInfo
    from app.domain.models import ImageRecord
    from app.services.calibration import CalibrationReport


def _ids(rows: list[ImageRecord]) -> str:
    shown = ", ".join(str(r.id) for r in rows[:20])
    return shown + (", ..." if len(rows) > 20 else "")


def change_text(change: GalleryChange, verb: str) -> str:
    parts = []
    if change.added:
        parts.append(f"added {len(change.added)} (ids {_ids(change.added)})")
    if change.already_present:
        added = [] if change.added else ["0 added"]
        present = (
            f"{len(change.already_present)} already present (ids {_ids(change.already_present)})"
        )
        parts += [*added, present]
    if change.removed:
        parts.append(f"removed {len(change.removed)}")
    return f"class '{change.class_name}' {verb}: " + ", ".join(parts or ["nothing changed"])


def removed_class_text(change: GalleryChange) -> str:
    catalogue = sum(r.source == "catalogue" for r in change.removed)
    examples = len(change.removed) - catalogue
    return (
        f"class '{change.class_name}' removed: {catalogue} catalogue photos and {examples} "
        "added examples (rebuild will leave its photos out until `class add`)"
    )


def removed_examples_text(rows: list[ImageRecord]) -> str:
    classes = sorted({r.product_id for r in rows})
    return f"removed {len(rows)} examples (ids {_ids(rows)}) from {', '.join(classes)}"


def gallery_text(info: GalleryInfo) -> str:
    catalogue = sum(c.catalogue for c in info.classes)
    examples = sum(c.examples for c in info.classes)
    lines = [
        f"gallery: {len(info.classes)} classes, {catalogue + examples} examples "
        f"({catalogue} catalogue, {examples} added), {info.size} vectors",
        f"model:   {info.model_stamp or '-'}"
        + ("" if info.model_stamp in (None, info.current_model) else " (run `rebuild`)"),
    ]
    for record in info.calibration:
        t = record.thresholds
        lines.append(
            f"calibrated {record.scoring_key}: min similarity {t.min_similarity:.3f}, min margin "
            f"{t.min_margin:.3f} (precision {record.precision:.3f}, coverage "
            f"{record.coverage:.3f} on {record.queries} photos)"
        )
    if not info.classes:
        return "\n".join([*lines, "(no classes: run `rebuild` or `class add NAME FILES...`)"])
    width = max(len("class"), *(len(c.class_name) for c in info.classes))
    lines.append(f"{'class':<{width}}  catalogue  examples")
    lines += [f"{c.class_name:<{width}}  {c.catalogue:>9}  {c.examples:>8}" for c in info.classes]
    return "\n".join(lines)


def gallery_json(info: GalleryInfo) -> str:
    return json.dumps(asdict(info), ensure_ascii=False)


def examples_text(class_name: str, rows: list[ImageRecord]) -> str:
    lines = [f"class '{class_name}': {len(rows)} examples", f"{'id':>8}  {'source':<9}  path"]
    lines += [f"{r.id:>8}  {r.source:<9}  {r.path}" for r in rows]
    return "\n".join(lines)


def calibration_text(report: CalibrationReport) -> str:
    record = report.record
    t = record.thresholds
    lines = [
        f"calibrated {record.scoring_key} on {record.queries} photos "
        f"(top-1 accuracy {report.accuracy:.3f} without rejection)",
        f"thresholds: min similarity {t.min_similarity:.4f}, min margin {t.min_margin:.4f}",
        f"precision {record.precision:.3f}, coverage {record.coverage:.3f} "
        f"(target precision {record.target_precision:g})",
        f"stored for model {report.model_stamp}",
    ]
    if report.unknown_classes:
        names = ", ".join(report.unknown_classes)
        lines.append(f"note: classes not in the gallery (always wrong, so rejected): {names}")
    return "\n".join(lines)

"""`classify` and `train` results as text for people (tables) and for scripts (JSON lines)."""

from __future__ import annotations

import json

from app.domain.classification import (
    AttributePrediction,
    ImageClassification,
    classification_dict,
)
from app.domain.heads import TrainReport

_UNSURE = "?"


def _top(prediction: AttributePrediction, k: int) -> dict[str, float]:
    return dict(list(prediction.probabilities.items())[:k])


def classification_json(result: ImageClassification, k: int = 3) -> str:
    return json.dumps(classification_dict(result, k), ensure_ascii=False)


def _row(name: str, value: str | None, confidence: float, source: str, extra: str) -> tuple:
    return (name, value if value is not None else _UNSURE, f"{confidence:.3f}", source, extra)


def _rows(result: ImageClassification, k: int) -> list[tuple]:
    rows = []
    for p in [result.category, *result.attributes]:
        if p is None:
            continue
        others = ", ".join(f"{c} {v:.2f}" for c, v in _top(p, k).items()) if k > 1 else ""
        rows.append(_row(p.name, p.value, p.confidence, p.source, p.reason or others))
    r = result.retrieval
    if r is not None:
        ranked = list(r.class_probabilities.items())[:k]
        shown = ", ".join(f"#{n} {c} {v:.2f}" for n, (c, v) in enumerate(ranked, 1))
        extra = "; ".join(part for part in (r.reason, shown) if part)
        rows.append(_row("retrieval", r.class_name, r.confidence, "retrieval", extra))
    return rows


def classification_table(result: ImageClassification, k: int = 3, notes: bool = True) -> str:
    lines = [f"image: {result.image}"]
    rows = _rows(result, k)
    if rows:
        rows.insert(0, ("answer", "value", "conf.", "source", "top classes / why unsure"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines += [
            "  "
            + "  ".join(f"{cell:<{w}}" if i != 2 else f"{cell:>{w}}" for i, (cell, w) in
                        enumerate(zip(row[:4], widths, strict=True)))
            + (f"  {row[4]}" if row[4] else "")
            for row in rows
        ]  # fmt: skip
    else:
        lines.append("  (no answer)")
    if notes:
        lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)


def classification_tables(results: list[ImageClassification], k: int = 3) -> str:
    """One table per image; notes shared by every image are printed once at the end."""
    shared = [n for n in results[0].notes if all(n in r.notes for r in results)]
    blocks = []
    for result in results:
        own = [n for n in result.notes if n not in shared]
        table = classification_table(result, k, notes=False)
        blocks.append("\n".join([table, *(f"  note: {n}" for n in own)]))
    blocks += [f"note: {n}" for n in shared]
    return "\n".join(blocks)


def train_summary(report: TrainReport) -> str:
    head = report.head
    accuracy = (
        f"validation accuracy {head.val_accuracy:.3f}"
        if head.val_accuracy is not None
        else "no validation photos (accuracy not measured)"
    )
    return (
        f"{head.key}: {len(head.classes)} classes ({', '.join(head.classes)}), "
        f"{head.train_size} training + {head.val_size} validation photos, {accuracy}, "
        f"saved {head.path} ({report.seconds:.1f} s)"
    )

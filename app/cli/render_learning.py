"""Text and JSON for `split`, `evaluate` and `finetune`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from app.domain.evaluation import EvaluationReport
from app.domain.splits import SplitReport
from app.domain.training import TrainingOutcome


def excluded_lines(report: SplitReport) -> list[str]:
    lines = [
        f"excluded group {e.group} ({e.class_name}, {e.images} images): {e.reason}"
        for e in report.excluded
    ]
    return lines + [f"skipped {s.path}: {s.reason}" for s in report.skipped]


def split_text(report: SplitReport) -> str:
    verb = "reused the saved split" if report.reused else "wrote a new split"
    classes = sorted({c for counts in report.counts.values() for c in counts})
    width = max([len("class"), *(len(c) for c in classes)])
    lines = [
        f"{verb} of {report.data_dir} in {report.splits_dir} (seed {report.seed}"
        f"{'; --force to redo' if report.reused else ''})",
        *([report.layout] if report.layout else []),
        f"  {'class':<{width}}  {'train':>6}  {'val':>6}  {'test':>6}",
    ]
    for name in classes:
        row = [report.counts[s].get(name, 0) for s in ("train", "val", "test")]
        lines.append(f"  {name:<{width}}  {row[0]:>6}  {row[1]:>6}  {row[2]:>6}")
    totals = [sum(report.counts[s].values()) for s in ("train", "val", "test")]
    lines.append(f"  {'images':<{width}}  {totals[0]:>6}  {totals[1]:>6}  {totals[2]:>6}")
    groups = [report.groups[s] for s in ("train", "val", "test")]
    lines.append(f"  {'groups':<{width}}  {groups[0]:>6}  {groups[1]:>6}  {groups[2]:>6}")
    excluded = sum(e.images for e in report.excluded)
    lines.append(
        f"excluded: {len(report.excluded)} groups ({excluded} images) below the minimum size; "
        f"{len(report.skipped)} unreadable files"
    )
    return "\n".join(lines)


def split_dict(report: SplitReport) -> dict[str, Any]:
    return asdict(report)


def evaluation_text(report: EvaluationReport) -> str:
    recall = ", ".join(f"R@{k} {v:.3f}" for k, v in report.recall.items())
    precision = ", ".join(f"P@{k} {v:.3f}" for k, v in report.precision.items())
    lines = [
        f"gallery: {report.gallery} ({report.n_gallery} images)",
        f"queries: {report.queries} ({report.n_queries} images)",
        f"model:   {report.model_stamp}",
        f"retrieval: {recall}; {precision}; mAP {report.mean_average_precision:.3f}"
        f" (depth {report.map_depth})",
        f"top-1 neighbour's class: accuracy {report.top1.accuracy:.3f}",
    ]
    lines += _per_class_lines(report.top1.per_class_accuracy)
    if not report.rules:
        lines.append("classification rules: not available (retrieval metrics only)")
    for rule in report.rules:
        lines.append(
            f"rule {rule.name}: accuracy {rule.accuracy:.3f}, coverage {rule.coverage:.3f}"
        )
    lines.append(f"files: {', '.join(report.files.values())}")
    return "\n".join(lines)


def _per_class_lines(per_class: dict[str, float | None]) -> list[str]:
    width = max((len(c) for c in per_class), default=5)
    return [
        f"  {name:<{width}}  {'-' if value is None else f'{value:.3f}'}"
        for name, value in per_class.items()
    ]


def finetune_text(outcome: TrainingOutcome) -> str:
    lines = []
    if outcome.start_epoch > 1:
        lines.append(f"resumed from epoch {outcome.start_epoch - 1}")
    if outcome.start_epoch > outcome.last_epoch:
        if outcome.stopped_early:
            done = "it stopped early (raise --patience, 0 = never stop; or --fresh)"
        else:
            done = "all epochs are done (raise --epochs, or start over with --fresh)"
        lines.append(f"nothing to train: {done}")
    else:
        lines.append(
            f"trained epochs {outcome.start_epoch}..{outcome.last_epoch} on {outcome.device} "
            f"({outcome.precision}) in {outcome.seconds / 60:.1f} min"
            f"{', stopped early' if outcome.stopped_early else ''}"
            f"{', --max-minutes reached (run again to go on)' if outcome.stopped_by_budget else ''}"
            f"; ArcFace scale {outcome.scale:g}, margin {outcome.margin:.2f}"
        )
    lines += [
        _val_line(outcome),
        f"best model: {outcome.best_path}",
        f"use it: EMBEDDING_MODEL={outcome.best_path} then `rebuild`",
    ]
    lines += [f"{name}: {path}" for name, path in outcome.files.items()]
    return "\n".join(lines)


def _val_line(outcome: TrainingOutcome) -> str:
    if not outcome.history:
        return "val: no epochs yet"
    start = outcome.history[0]
    best = next(r for r in outcome.history if r.epoch == outcome.best_epoch)
    last = outcome.history[-1]

    def scores(record) -> str:
        mean_ap = "-" if record.val_map is None else f"{record.val_map:.3f}"
        return f"R@1 {record.val_recall_at_1:.3f} / mAP {mean_ap}"

    return (
        f"val (R@1 / mAP): before {scores(start)}; best by {outcome.select_metric} "
        f"{scores(best)} (epoch {best.epoch}); last {scores(last)} (epoch {last.epoch})"
    )


def finetune_dict(outcome: TrainingOutcome) -> dict[str, Any]:
    return asdict(outcome)

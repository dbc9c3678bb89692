"""Text and JSON for the feedback commands."""

from __future__ import annotations

import json

from app.domain.feedback import FeedbackStats, Judgement, judgement_dict, stats_dict
from app.services.feedback_curation import ExportReport, PromoteReport


def recorded(judged: list[Judgement]) -> str:
    return "\n".join(
        f"recorded #{j.id}: {j.verdict} {j.product_id}"
        + (f" (image {j.image_id})" if j.image_id is not None else "")
        for j in judged
    )


def table(judged: list[Judgement]) -> str:
    if not judged:
        return "(no feedback)"
    width = max(len("product"), *(len(j.product_id) for j in judged))
    lines = [f"{'id':>5}  {'verdict':<7}  {'product':<{width}}  {'image':>6}  query     note"]
    for j in judged:
        image = "" if j.image_id is None else str(j.image_id)
        lines.append(
            f"{j.id:>5}  {j.verdict:<7}  {j.product_id:<{width}}  {image:>6}  "
            f"{j.query_hash[:8]}  {j.note or ''}".rstrip()
        )
    return "\n".join(lines)


def list_json(judged: list[Judgement]) -> str:
    return json.dumps([judgement_dict(j) for j in judged])


def stats(s: FeedbackStats) -> str:
    lines = [f"verdicts: {s.total} ({s.good} good, {s.bad} bad) on {s.products} products"]
    if not s.disputed:
        return "\n".join([*lines, "most disputed: none (no product was judged both good and bad)"])
    lines.append("most disputed:")
    lines += [f"  {p}: {g} good, {b} bad" for p, g, b in s.disputed]
    return "\n".join(lines)


def stats_json(s: FeedbackStats) -> str:
    return json.dumps(stats_dict(s))


def promote_summary(report: PromoteReport) -> str:
    added = sum(report.promoted.values())
    per_class = ", ".join(f"{c} +{n}" for c, n in report.promoted.items()) or "nothing new"
    return (
        f"promoted {added} examples ({per_class}); "
        f"{report.hard_negatives} rejected verdicts kept as hard negatives"
    )


def export_summary(report: ExportReport) -> str:
    written = sum(report.images.values())
    return (
        f"exported {written} images in {len(report.images)} class folders to {report.directory}; "
        f"{report.hard_negatives} hard negatives listed in hard_negatives.csv"
    )

"""`dedup` output: a table for people, JSON lines for scripts, a contact sheet PNG."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageDraw

from app.cli.contact_sheet import _tile as tile
from app.domain.duplicates import DuplicateGroup
from app.services.dedup import DedupReport

_TILE = 160
_LABEL = 30
_GAP = 8
_MARK = 6  # width of the red bar left of a conflicting row
_RED = (220, 30, 30)


def group_json(group: DuplicateGroup) -> str:
    return json.dumps(group.as_dict(), ensure_ascii=False)


def dedup_table(report: DedupReport, threshold: float) -> str:
    conflicts = sum(g.conflict for g in report.groups)
    lines = [
        f"{len(report.groups)} groups ({conflicts} conflicts) among {report.images} images, "
        f"threshold {threshold:g}, {report.seconds:.1f}s"
    ]
    for number, group in enumerate(report.groups, 1):
        flag = "CONFLICT" if group.conflict else "same product"
        lines.append(f"group {number}: {flag}, similarity {group.similarity:.4f}")
        lines += [f"  {r.id:>7}  {r.product_id:<20}  {r.path}" for r in group.images]
    return "\n".join(lines)


def duplicate_sheet(groups: list[DuplicateGroup], out_path: Path) -> Path:
    """One row per group: thumbnails labelled with product id and the group's similarity;
    conflicting rows have a red bar and a red label."""
    columns = max((len(g.images) for g in groups), default=1)
    row_h = _TILE + _LABEL + _GAP
    width = _MARK + _GAP + columns * (_TILE + _GAP)
    sheet = Image.new("RGB", (width, max(1, len(groups)) * row_h + _GAP), "white")
    draw = ImageDraw.Draw(sheet)
    for row, group in enumerate(groups):
        y = _GAP + row * row_h
        colour = _RED if group.conflict else (0, 0, 0)
        if group.conflict:
            draw.rectangle((0, y, _MARK, y + _TILE + _LABEL), fill=_RED)
        for col, record in enumerate(group.images):
            x = _MARK + _GAP + col * (_TILE + _GAP)
            sheet.paste(tile(record.path).resize((_TILE, _TILE)), (x, y))
            label = f"{record.product_id[:24]}\n{group.similarity:.3f}"
            if group.conflict:
                label += " CONFLICT"
            draw.multiline_text((x + 2, y + _TILE + 2), label, fill=colour)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path)
    return out_path

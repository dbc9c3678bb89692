"""`query --show OUT.png`: the query image and its top-K side by side, with scores."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from app.domain.models import QueryResult

_TILE = 224
_LABEL = 36
_GAP = 8


def _tile(path: str) -> Image.Image:
    try:
        with Image.open(path) as opened:
            img = ImageOps.exif_transpose(opened).convert("RGB")
            img.thumbnail((_TILE, _TILE))
    except OSError:
        img = Image.new("RGB", (_TILE, _TILE), (200, 200, 200))
    canvas = Image.new("RGB", (_TILE, _TILE), (255, 255, 255))
    canvas.paste(img, ((_TILE - img.width) // 2, (_TILE - img.height) // 2))
    return canvas


def render_contact_sheet(results: list[QueryResult], out_path: Path) -> Path:
    """One row per query: the query image, then its hits labelled rank, score and product."""
    columns = 1 + max((len(r.hits) for r in results), default=0)
    row_h = _TILE + _LABEL + _GAP
    sheet = Image.new(
        "RGB", (columns * (_TILE + _GAP) + _GAP, len(results) * row_h + _GAP), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for row, result in enumerate(results):
        y = _GAP + row * row_h
        cells = [(result.query, "query")] + [
            (h.path, f"#{h.rank} {h.score:.3f}\n{h.product_id}") for h in result.hits
        ]
        for col, (path, label) in enumerate(cells):
            x = _GAP + col * (_TILE + _GAP)
            sheet.paste(_tile(path), (x, y))
            draw.multiline_text((x + 2, y + _TILE + 2), label[:60], fill=(0, 0, 0))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_path)
    return out_path

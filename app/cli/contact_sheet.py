"""`query --show OUT.png`: each query framed and labelled, its top-K in a grid beside it.

Layout per query: the query tile on the left in a coloured frame, then the hits in rows of
`PER_ROW` with captions `#1  0.571  shoes`; queries are separated by a rule. k=32 is six rows of
six tiles, never one endless row.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from app.atomic_files import atomic_write_bytes
from app.domain.models import QueryResult

TILE = 200
PER_ROW = 6
_CAPTION = 26
_GAP = 14
_FRAME = 5
_QUERY_COLOUR = (214, 39, 40)
_TEXT = (20, 20, 20)
_MUTED = (110, 110, 110)


@dataclass(frozen=True)
class Cell:
    path: str
    caption: str


def _font(size: int = 15):
    return ImageFont.load_default(size=size)


def _tile(path: str) -> Image.Image:
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (TILE, TILE))  # JPEG: decode near the tile size
            img = ImageOps.contain(ImageOps.exif_transpose(opened).convert("RGB"), (TILE, TILE))
    except OSError:
        img = Image.new("RGB", (TILE, TILE), (200, 200, 200))
    canvas = Image.new("RGB", (TILE, TILE), (255, 255, 255))
    canvas.paste(img, ((TILE - img.width) // 2, (TILE - img.height) // 2))
    return canvas


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """`text` cut with an ellipsis so that it fits `width` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _block_size(hits: int) -> tuple[int, int]:
    rows = max(1, -(-hits // PER_ROW))
    width = _GAP + (TILE + 2 * _FRAME) + 2 * _GAP + min(max(hits, 1), PER_ROW) * (TILE + _GAP)
    return width, rows * (TILE + _CAPTION + _GAP) + _GAP


def _draw_block(sheet: Image.Image, top: int, result: QueryResult) -> None:
    draw, font = ImageDraw.Draw(sheet), _font()
    x, y = _GAP, top + _GAP
    draw.rectangle((x, y, x + TILE + 2 * _FRAME - 1, y + TILE + 2 * _FRAME - 1), fill=_QUERY_COLOUR)
    sheet.paste(_tile(result.query), (x + _FRAME, y + _FRAME))
    label = _fit(draw, f"query: {Path(result.query).name}", font, TILE + 2 * _FRAME)
    draw.text((x, y + TILE + 2 * _FRAME + 4), label, fill=_QUERY_COLOUR, font=font)
    left = x + TILE + 2 * _FRAME + 2 * _GAP
    for n, hit in enumerate(result.hits):
        hx = left + (n % PER_ROW) * (TILE + _GAP)
        hy = y + (n // PER_ROW) * (TILE + _CAPTION + _GAP)
        sheet.paste(_tile(hit.path), (hx, hy))
        caption = _fit(draw, f"#{hit.rank}  {hit.score:.3f}  {hit.product_id}", font, TILE)
        draw.text((hx, hy + TILE + 4), caption, fill=_TEXT, font=font)
    if not result.hits:
        draw.text((left, y + TILE // 2), "no hits", fill=_MUTED, font=font)


def render_contact_sheet(results: list[QueryResult], out_path: Path) -> Path:
    """One block per query: the framed query, then its hits in a grid of `PER_ROW` columns."""
    sizes = [_block_size(len(r.hits)) for r in results] or [_block_size(0)]
    width, height = max(w for w, _ in sizes) + _GAP, sum(h for _, h in sizes) + _GAP
    sheet = Image.new("RGB", (width, height), "white")
    top = 0
    for result, (_, block_height) in zip(results, sizes, strict=False):
        _draw_block(sheet, top, result)
        top += block_height
        ImageDraw.Draw(sheet).line((_GAP, top, width - _GAP, top), fill=(210, 210, 210), width=2)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out_path, buffer.getvalue())
    return out_path

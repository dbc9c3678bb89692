"""PNG pictures for people (PIL only): a confusion-matrix heat map and training curves."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_CELL = 34
_MARGIN = 12
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)
_GREY = (150, 150, 150)
_SERIES_COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189)]


def write_confusion_csv(path: Path, rows: list[str], columns: list[str], matrix) -> Path:
    """First column: true class; then one column per predicted class."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["true \\ predicted", *columns])
        for name, counts in zip(rows, matrix, strict=True):
            writer.writerow([name, *(int(c) for c in counts)])
    return path


def write_confusion_png(
    path: Path, rows: list[str], columns: list[str], matrix, title: str = ""
) -> Path:
    """Heat map of row-normalised counts (white = 0, dark blue = the whole row), counts written."""
    font = ImageFont.load_default()
    label_w = 8 + 7 * max((len(r) for r in rows), default=4)
    head_h = 8 + 7 * max((len(c) for c in columns), default=4)
    top = _MARGIN + (16 if title else 0)
    width = _MARGIN * 2 + label_w + _CELL * len(columns)
    height = top + head_h + _CELL * len(rows) + _MARGIN
    image = Image.new("RGB", (width, height), _WHITE)
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((_MARGIN, _MARGIN // 2), title, fill=_BLACK, font=font)
    x0, y0 = _MARGIN + label_w, top + head_h
    for j, name in enumerate(columns):
        _vertical_text(image, name, (x0 + j * _CELL + _CELL // 2 - 5, top), font)
    for i, (name, counts) in enumerate(zip(rows, matrix, strict=True)):
        total = max(1, int(sum(int(c) for c in counts)))
        draw.text((_MARGIN, y0 + i * _CELL + _CELL // 2 - 6), name, fill=_BLACK, font=font)
        for j, count in enumerate(counts):
            share = int(count) / total
            box = (x0 + j * _CELL, y0 + i * _CELL, x0 + (j + 1) * _CELL, y0 + (i + 1) * _CELL)
            draw.rectangle(box, fill=_blue(share), outline=_GREY)
            if int(count):
                colour = _WHITE if share > 0.5 else _BLACK
                draw.text((box[0] + 4, box[1] + 11), str(int(count)), fill=colour, font=font)
    return _save(image, path)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    y_range: tuple[float, float] | None = None  # fixed axis (e.g. 0..1 for a recall)


def write_curves_png(
    path: Path,
    epochs: Sequence[int],
    series: Sequence[Series],
    title: str = "",
    marker: float | None = None,
) -> Path:
    """One panel per series against the epoch (shared x axis), stacked vertically; `marker`
    draws a dashed vertical line (e.g. where the backbone is unfrozen)."""
    font = ImageFont.load_default()
    panel_w, panel_h, pad = 560, 200, 40
    image = Image.new("RGB", (panel_w + 2 * pad, len(series) * (panel_h + pad) + pad), _WHITE)
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((pad, 8), title, fill=_BLACK, font=font)
    x_range = (min(epochs, default=0), max(max(epochs, default=0), min(epochs, default=0) + 1))
    for n, one in enumerate(series):
        top = pad + n * (panel_h + pad)
        box = (pad, top, pad + panel_w, top + panel_h)
        axes = _Axes(box, x_range, _y_range(one), _SERIES_COLOURS[n % len(_SERIES_COLOURS)])
        _panel(draw, axes, list(epochs), one, font, marker=marker)
    return _save(image, path)


@dataclass(frozen=True)
class _Axes:
    box: tuple[int, int, int, int]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    colour: tuple[int, int, int]

    def at(self, x: float, y: float) -> tuple[float, float]:
        left, top, right, bottom = self.box
        fx = (x - self.x_range[0]) / (self.x_range[1] - self.x_range[0])
        fy = (y - self.y_range[0]) / (self.y_range[1] - self.y_range[0])
        return left + 10 + fx * (right - left - 20), bottom - 10 - fy * (bottom - top - 30)


def _y_range(series: Series) -> tuple[float, float]:
    if series.y_range is not None:
        return series.y_range
    values = [v for v in series.values if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    return (lo - 0.5, hi + 0.5) if hi - lo < 1e-9 else (lo, hi)


def _panel(draw, axes: _Axes, epochs: list[int], series: Series, font, *, marker) -> None:
    left, top, right, bottom = axes.box
    draw.rectangle(axes.box, outline=_GREY)
    draw.text((left + 4, top + 4), series.name, fill=axes.colour, font=font)
    draw.text((right - 90, top + 4), "{:.3g}..{:.3g}".format(*axes.y_range), fill=_BLACK, font=font)
    draw.text((left + 4, bottom + 2), f"epoch {axes.x_range[0]:g}", fill=_BLACK, font=font)
    draw.text((right - 60, bottom + 2), f"epoch {axes.x_range[1]:g}", fill=_BLACK, font=font)
    if marker is not None:
        x, _ = axes.at(marker, axes.y_range[0])
        for y in range(top + 18, bottom - 4, 8):
            draw.line([(x, y), (x, y + 4)], fill=_GREY)
    points = [axes.at(e, v) for e, v in zip(epochs, series.values, strict=True) if v is not None]
    if len(points) > 1:
        draw.line(points, fill=axes.colour, width=2)
    for x, y in points:
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=axes.colour)


def _blue(share: float) -> tuple[int, int, int]:
    share = min(1.0, max(0.0, share))
    return (int(255 - 247 * share), int(255 - 207 * share), int(255 - 148 * share))


def _vertical_text(image: Image.Image, text: str, at: tuple[int, int], font) -> None:
    width = 8 + 7 * len(text)
    strip = Image.new("RGB", (width, 14), _WHITE)
    ImageDraw.Draw(strip).text((2, 1), text, fill=_BLACK, font=font)
    image.paste(strip.rotate(90, expand=True), at)


def _save(image: Image.Image, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path

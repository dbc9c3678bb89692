"""Charts drawn with matplotlib (Agg backend, imported on first use): confusion-matrix heat maps
with axis titles and a colour bar, training curves with ticks and legends. Figures are built by
`confusion_figure` / `curves_figure` (inspectable before saving) and written atomically."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.atomic_files import atomic_write_bytes
from app.domain.charts import Confusion, Series

MAX_CLASSES_SHOWN = 60  # beyond this, the most confused classes are shown
ANNOTATE_UP_TO = 30  # counts are written in the cells up to this many classes
DPI = 100


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def confusion_figure(confusion: Confusion):
    """A heat map of row-normalised counts: true class down, predicted class across."""
    shown = confusion.most_confused(MAX_CLASSES_SHOWN)
    n_rows, n_cols = shown.counts.shape
    side = min(40.0, max(6.0, 0.32 * max(n_rows, n_cols) + 3.0))
    font = max(5.0, min(10.0, 240.0 / max(n_rows, n_cols, 1)))
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(side + 1.5, side), dpi=DPI, layout="constrained")
    totals = np.maximum(shown.counts.sum(axis=1, keepdims=True), 1)
    image = axes.imshow(shown.counts / totals, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    colour_bar = figure.colorbar(image, ax=axes, fraction=0.046, pad=0.02)
    colour_bar.set_label("share of the true class's queries")
    axes.set_xticks(range(n_cols), shown.columns, rotation=90, fontsize=font)
    axes.set_yticks(range(n_rows), shown.rows, fontsize=font)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(shown.title or "confusion matrix")
    if max(n_rows, n_cols) <= ANNOTATE_UP_TO:
        _annotate(axes, shown.counts, totals, font)
    return figure


def _annotate(axes, counts: np.ndarray, totals: np.ndarray, font: float) -> None:
    for (i, j), count in np.ndenumerate(counts):
        if count:
            dark = count / totals[i, 0] > 0.5
            axes.text(j, i, str(int(count)), ha="center", va="center", fontsize=font,
                      color="white" if dark else "black")  # fmt: skip


def curves_figure(
    epochs: Sequence[int], series: Sequence[Series], title: str = "", marker: float | None = None
):
    """One panel per series against the epoch (shared x axis), each with ticks and a legend."""
    plt = _pyplot()
    figure, panels = plt.subplots(
        len(series), 1, figsize=(8, 2.6 * max(1, len(series)) + 0.6), dpi=DPI,
        sharex=True, squeeze=False, layout="constrained",
    )  # fmt: skip
    for n, (axes, one) in enumerate(zip(panels[:, 0], series, strict=True)):
        points = [(e, v) for e, v in zip(epochs, one.values, strict=True) if v is not None]
        xs, ys = zip(*points, strict=True) if points else ((), ())
        axes.plot(xs, ys, marker="o", color=f"C{n}", label=one.name)
        if one.y_range is not None:
            axes.set_ylim(*one.y_range)
        if marker is not None:
            axes.axvline(marker, color="grey", linestyle="--", label="backbone unfrozen")
        axes.set_ylabel(one.name)
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize=8)
    panels[-1, 0].set_xlabel("epoch")
    panels[-1, 0].xaxis.get_major_locator().set_params(integer=True)
    if title:
        figure.suptitle(title)
    return figure


class MatplotlibCharts:
    """The `Charts` port over matplotlib."""

    def confusion_csv(self, path: Path, confusion: Confusion) -> Path:
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(["true \\ predicted", *confusion.columns])
        for name, counts in zip(confusion.rows, confusion.counts, strict=True):
            writer.writerow([name, *(int(c) for c in counts)])
        return _write(path, text.getvalue().encode("utf-8"))

    def confusion_png(self, path: Path, confusion: Confusion) -> Path:
        return _save(confusion_figure(confusion), path)

    def curves_png(
        self,
        path: Path,
        epochs: Sequence[int],
        series: Sequence[Series],
        title: str = "",
        marker: float | None = None,
    ) -> Path:
        return _save(curves_figure(epochs, series, title, marker), path)


def _save(figure, path: Path) -> Path:
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png")
    finally:
        _pyplot().close(figure)
    return _write(path, buffer.getvalue())


def _write(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data)
    return path

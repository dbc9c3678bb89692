"""Charts people can read: axis titles, a colour bar, ticks and legends, sizes that scale."""

from __future__ import annotations

import csv

import numpy as np
from PIL import Image

from app.domain.charts import Confusion, Series
from app.infrastructure.charts.matplotlib_charts import (
    MAX_CLASSES_SHOWN,
    MatplotlibCharts,
    confusion_figure,
    curves_figure,
)

CLASSES = ["hat", "shoes", "skirt", "shorts"]


def _confusion(n: int, seed: int = 0) -> Confusion:
    rng = np.random.default_rng(seed)
    names = [f"class-{i:03d}" for i in range(n)]
    counts = np.diag(rng.integers(5, 20, n)) + (rng.random((n, n)) < 0.05)
    return Confusion.of(names, names, counts, "test")


def test_confusion_figure_has_axis_titles_colour_bar_and_counts() -> None:
    counts = [[9, 1, 0, 0], [0, 10, 0, 0], [0, 0, 6, 4], [0, 0, 3, 7]]
    figure = confusion_figure(Confusion.of(CLASSES, CLASSES, counts, "knn: accuracy 0.8"))
    heat_map, colour_bar = figure.axes
    assert heat_map.get_xlabel() == "predicted class"
    assert heat_map.get_ylabel() == "true class"
    assert colour_bar.get_ylabel()  # the colour scale is labelled
    assert [t.get_text() for t in heat_map.get_xticklabels()] == CLASSES
    assert [t.get_text() for t in heat_map.get_yticklabels()] == CLASSES
    assert "4" in {t.get_text() for t in heat_map.texts}  # counts written in the cells
    width, height = figure.get_size_inches() * figure.dpi
    assert width >= 600 and height >= 500


def test_confusion_figure_grows_with_the_class_count() -> None:
    small = confusion_figure(_confusion(4)).get_size_inches()
    large = confusion_figure(_confusion(50)).get_size_inches()
    assert large[0] > 2 * small[0]
    labels = confusion_figure(_confusion(50)).axes[0].get_yticklabels()
    assert len(labels) == 50 and labels[0].get_fontsize() >= 5


def test_many_classes_show_the_most_confused() -> None:
    confusion = _confusion(120)
    confusion.counts[7, 99] = 40  # the worst confusion must be on the chart
    figure = confusion_figure(confusion)
    shown = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert len(shown) == MAX_CLASSES_SHOWN
    assert {"class-007", "class-099"} <= set(shown)
    assert "most confused of 120" in figure.axes[0].get_title()


def test_unclassifiable_column_is_kept() -> None:
    columns = [*CLASSES, "unclassifiable"]
    counts = np.eye(4, 5, dtype=int) * 5
    counts[:, 4] = 1
    figure = confusion_figure(Confusion.of(CLASSES, columns, counts))
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()][-1] == "unclassifiable"


def test_curves_have_ticks_labels_and_legends() -> None:
    series = [
        Series("train loss (ArcFace)", [12.0, 9.5, 7.1, 6.0]),
        Series("val Recall@1", [0.5, 0.6, None, 0.7], (0.0, 1.0)),
    ]
    figure = curves_figure([0, 1, 2, 3], series, "title", marker=1.5)
    loss, recall = figure.axes
    assert recall.get_xlabel() == "epoch"
    assert loss.get_ylabel() == "train loss (ArcFace)"
    assert len(loss.get_yticks()) >= 3 and len(recall.get_yticks()) >= 3
    assert recall.get_ylim() == (0.0, 1.0)
    legend = [t.get_text() for t in recall.get_legend().get_texts()]
    assert legend == ["val Recall@1", "backbone unfrozen"]


def test_files_are_written(tmp_path) -> None:
    charts = MatplotlibCharts()
    confusion = Confusion.of(CLASSES, CLASSES, np.eye(4, dtype=int) * 3)
    png = charts.confusion_png(tmp_path / "out" / "confusion.png", confusion)
    with Image.open(png) as image:
        assert image.width >= 600 and image.height >= 500
    rows = list(csv.reader(charts.confusion_csv(tmp_path / "c.csv", confusion).open()))
    assert rows[0] == ["true \\ predicted", *CLASSES]
    assert rows[2] == ["shoes", "0", "3", "0", "0"]
    curve = charts.curves_png(tmp_path / "curve.png", [0, 1], [Series("loss", [2.0, 1.0])])
    with Image.open(curve) as image:
        assert image.width >= 600

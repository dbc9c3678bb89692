"""`evaluate` over two small class-folder trees (fast fake model) and over a saved split."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from dependency_injector import providers
from PIL import Image

from app.container import build_container
from app.domain.classification import RetrievalPrediction
from app.domain.errors import ConfigError, NotFound
from app.services.evaluation import EvaluationOptions
from app.services.splitting import SplitOptions
from conftest import COLOURS, write_product_photo


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    """Gallery: 3 photos per product. Queries: one per product, plus a green photo filed as
    red-shoe (its nearest neighbour is a green hat: a top-1 miss)."""
    gallery, queries = tmp_path / "gallery", tmp_path / "queries"
    for i, (product, colour) in enumerate(COLOURS.items()):
        for view in range(3):
            write_product_photo(gallery / product / f"g{view}.jpg", colour, seed=10 * i + view)
        write_product_photo(queries / product / "q.jpg", colour, seed=100 + i)
    write_product_photo(queries / "red-shoe" / "odd.jpg", COLOURS["green-hat"], seed=200)
    return gallery, queries


class FirstNeighbourClassifier:
    """A stand-in for RetrievalClassifier: "max" names the top-1 neighbour's product, any other
    rule refuses to answer."""

    def __init__(self, store, repository) -> None:
        self.store, self.repository = store, repository

    def predict_vectors(self, vectors: np.ndarray, aggregation: str | None = None):
        out = []
        for row in self.store.search(vectors, 1):
            if aggregation == "max":
                name = self.repository.get_images([row[0][0]])[row[0][0]].product_id
                out.append(RetrievalPrediction(name, 0.9, False, None, {name: 1.0}, "max"))
            else:
                out.append(RetrievalPrediction(None, 0.1, True, "below threshold", {}, "knn"))
        return out


def test_two_trees_retrieval_metrics_and_files(container, trees, tmp_path):
    gallery, queries = trees
    report = container.evaluation_service().evaluate_folders(gallery, queries, tmp_path / "out")
    assert (report.n_gallery, report.n_queries) == (9, 4)
    assert report.recall[1] == pytest.approx(0.75)
    assert report.precision[1] == pytest.approx(0.75)
    assert report.recall[5] >= report.recall[1]
    assert 0 < report.mean_average_precision < 1
    assert report.top1.per_class_accuracy == {"blue-dress": 1.0, "green-hat": 1.0, "red-shoe": 0.5}
    assert report.top1.confusion == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    assert [r.name for r in report.rules] == ["max", "prototype", "knn"]  # the real classifier
    out = tmp_path / "out"
    with open(out / "confusion_top1.csv", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["true \\ predicted", "blue-dress", "green-hat", "red-shoe"]
    assert rows[3] == ["red-shoe", "0", "1", "1"]
    with Image.open(out / "confusion_top1.png") as image:
        assert image.width > 100 and image.height > 100
    saved = json.loads((out / "report.json").read_text())
    assert saved["recall@1"] == pytest.approx(0.75) and saved["n_queries"] == 4
    assert saved["confusion"]["top1"]["counts"] == report.top1.confusion


def test_classification_rules_with_unclassifiable_column(container, trees, tmp_path):
    container.retrieval_classifier_factory.override(providers.Object(FirstNeighbourClassifier))
    gallery, queries = trees
    options = EvaluationOptions(rules=("max", "knn"))
    report = container.evaluation_service().evaluate_folders(
        gallery, queries, tmp_path / "out", options
    )
    scores = {rule.name: rule for rule in report.rules}
    assert scores["max"].accuracy == pytest.approx(0.75) and scores["max"].coverage == 1.0
    assert scores["knn"].accuracy == 0.0 and scores["knn"].coverage == 0.0
    assert scores["knn"].columns[-1] == "unclassifiable"
    assert [row[-1] for row in scores["knn"].confusion] == [1, 1, 2]
    assert (tmp_path / "out" / "confusion_knn.png").is_file()
    data = report.as_dict()
    assert data["rules"]["max"]["accuracy"] == pytest.approx(0.75)
    assert data["rules"]["knn"]["per_class_accuracy"]["red-shoe"] == 0.0


def test_split_mode_uses_train_as_gallery(container, tmp_path):
    data = tmp_path / "data"
    for i, (product, colour) in enumerate(COLOURS.items()):
        for obj in range(4):
            for view in range(2):
                path = data / product / f"{product}{obj}_{view}.jpg"
                write_product_photo(path, colour, seed=50 * i + 5 * obj + view)
    container.split_service().run(data, SplitOptions(min_width=16, min_height=16))
    report = container.evaluation_service().evaluate_split("test", tmp_path / "out")
    split = container.split_service().load()
    assert report.n_gallery == len(split.files["train"])
    assert report.n_queries == len(split.files["test"]) > 0
    assert report.recall[1] == 1.0
    assert "test split of" in report.queries


def test_the_same_photo_on_both_sides_is_refused(container, trees, tmp_path):
    gallery, _ = trees
    with pytest.raises(ConfigError, match="also gallery images"):
        container.evaluation_service().evaluate_folders(gallery, gallery, tmp_path / "out")


def test_missing_folder_and_bad_split_name(container, trees, tmp_path):
    gallery, _ = trees
    with pytest.raises(NotFound, match="folder not found"):
        container.evaluation_service().evaluate_folders(gallery, tmp_path / "no", tmp_path)
    with pytest.raises(NotFound, match="run `split DATA_DIR` first"):
        container.evaluation_service().evaluate_split("test", tmp_path)


def test_bad_query_files_are_skipped_and_reported(container, trees, tmp_path):
    gallery, queries = trees
    (queries / "red-shoe" / "broken.jpg").write_text("nope")
    report = container.evaluation_service().evaluate_folders(gallery, queries, tmp_path / "out")
    assert [Path(s.path).name for s in report.skipped] == ["broken.jpg"]
    assert report.n_queries == 4


def _figures(report) -> dict:
    data = report.as_dict()
    return {k: v for k, v in data.items() if k not in ("seconds", "files")}


def test_photos_are_embedded_once_across_runs_and_processes(
    container, settings, fake_model, trees, tmp_path
):
    """`evaluate` again (in this process or a new one) asks the model for nothing: the photos'
    embeddings are kept on disk by content and model, and the figures are the same."""
    gallery, queries = trees
    first = container.evaluation_service().evaluate_folders(gallery, queries, tmp_path / "a")
    assert fake_model.embedded == 9 + 4
    again = container.evaluation_service().evaluate_folders(gallery, queries, tmp_path / "b")
    later = build_container(settings)  # a new CLI run over the same settings
    later.embedding_model.override(providers.Object(fake_model))
    third = later.evaluation_service().evaluate_folders(gallery, queries, tmp_path / "c")
    assert fake_model.embedded == 9 + 4
    assert _figures(again) == _figures(third) == _figures(first)


def test_evaluate_after_split_reuses_what_the_leak_check_embedded(container, fake_model, tmp_path):
    data = tmp_path / "data"
    for i, (product, colour) in enumerate(COLOURS.items()):
        for obj in range(4):
            write_product_photo(data / product / f"{product}{obj}_0.jpg", colour, seed=9 * i + obj)
    container.split_service().run(data, SplitOptions(min_width=16, min_height=16))
    assert fake_model.embedded == 12  # every photo, once, by the leak check
    report = container.evaluation_service().evaluate_split("test", tmp_path / "out")
    assert report.n_gallery + report.n_queries <= 12 and report.n_queries > 0
    assert fake_model.embedded == 12

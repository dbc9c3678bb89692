"""Use case: measure retrieval honestly on labelled photos.

Gallery and queries are embedded with the current model into a throw-away in-memory gallery (the
catalogue index is never touched): the train split against the val or test split, or any two
class-folder trees. Reports Recall@K, Precision@K, mAP, per-class accuracy and the confusion
matrix of the top-1 neighbour, and, when a retrieval classifier is wired, the same per
classification rule with its coverage. Writes report.json and confusion CSV + PNG files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from app.domain import metrics
from app.domain.centres import ClassCentres
from app.domain.charts import Confusion
from app.domain.classification import RetrievalPrediction
from app.domain.errors import ConfigError, IndexNotReady, NotFound
from app.domain.evaluation import UNCLASSIFIABLE, EvaluationReport, RuleScores
from app.domain.images import ImageInput
from app.domain.models import ImageRecord, SkippedFile
from app.interfaces.charts import Charts
from app.interfaces.documents import Documents
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.cached_embeddings import CachedEmbeddings
from app.services.leaks import LeakFinder
from app.services.progress import ProgressFactory, no_progress
from app.services.scanning import iter_image_files
from app.services.splitting import SplitService

Labelled = list[tuple[str, str]]  # (path, class name)


class GalleryClassifier(Protocol):
    """Classification by retrieval over one gallery (services.retrieval.RetrievalClassifier)."""

    def predict_vectors(
        self, vectors: np.ndarray, aggregation: str | None = None
    ) -> list[RetrievalPrediction]: ...


# Builds a classifier over a gallery (vector store + repository whose product_id is the class).
ClassifierFactory = Callable[[VectorStore, Repository], GalleryClassifier]


@dataclass(frozen=True)
class EvaluationOptions:
    ks: tuple[int, ...] = (1, 5)
    rules: tuple[str, ...] = ("max", "prototype", "knn")
    map_depth: int = 1000  # mAP over the best `map_depth` gallery images of each query


@dataclass(frozen=True)
class _Task:
    gallery: Labelled
    queries: Labelled
    classes: list[str]
    names: tuple[str, str]  # how to describe the gallery and the queries


@dataclass(frozen=True)
class _Embedded:
    paths: list[str]
    labels: np.ndarray  # class index per row
    vectors: np.ndarray


@dataclass(eq=False)
class EvaluationService:
    embeddings: CachedEmbeddings  # photos embedded once per content, kept across runs
    splits: SplitService
    _: KW_ONLY
    store_factory: Callable[[], VectorStore]
    repository_factory: Callable[[], Repository]
    charts: Charts
    documents: Documents
    classifier_factory: ClassifierFactory | None = None
    progress: ProgressFactory = no_progress
    leaks: LeakFinder | None = None
    # a fine-tuned model's class centres: the "centres" rule
    centres: Callable[[], ClassCentres | None] = lambda: None

    def evaluate_split(
        self, split: str, out_dir: Path, options: EvaluationOptions | None = None
    ) -> EvaluationReport:
        """Gallery = the train split, queries = `split` ("val" for model selection, "test")."""
        saved = self.splits.load()
        if split not in ("val", "test"):
            raise NotFound(f"unknown split {split!r}: choose val or test")
        task = _Task(
            saved.labelled("train"),
            saved.labelled(split),
            saved.classes,
            (f"train split of {saved.data_dir}", f"{split} split of {saved.data_dir}"),
        )
        return self._evaluate(task, out_dir, options or EvaluationOptions())

    def evaluate_folders(
        self,
        gallery_dir: Path,
        queries_dir: Path,
        out_dir: Path,
        options: EvaluationOptions | None = None,
    ) -> EvaluationReport:
        """Two trees of class folders: the class of a photo is the folder that holds it."""
        gallery, queries = _labelled_tree(gallery_dir), _labelled_tree(queries_dir)
        classes = sorted({c for _, c in gallery} | {c for _, c in queries})
        names = (str(gallery_dir), str(queries_dir))
        task = _Task(gallery, queries, classes, names)
        return self._evaluate(task, out_dir, options or EvaluationOptions())

    def _evaluate(self, task: _Task, out_dir: Path, options: EvaluationOptions) -> EvaluationReport:
        started = time.perf_counter()
        _check_disjoint(task.gallery, task.queries)
        classes, names = task.classes, task.names
        skipped: list[SkippedFile] = []
        index = {name: i for i, name in enumerate(classes)}
        gallery = self._embed(task.gallery, index, "embedding gallery", skipped)
        queries = self._embed(task.queries, index, "embedding queries", skipped)
        if gallery.labels.size == 0:
            raise IndexNotReady(f"the gallery is empty: no usable images in {names[0]}")
        if queries.labels.size == 0:
            raise NotFound(f"no usable query images in {names[1]}")
        store, repository, label_of_id = self._gallery(gallery, classes)
        depth = min(len(store), max(options.map_depth, *options.ks))
        ranked = metrics.ranked_labels(store.search(queries.vectors, depth), label_of_id, depth)
        hits = metrics.matches(ranked, queries.labels)
        n_relevant = np.bincount(gallery.labels, minlength=len(classes))[queries.labels]
        report = EvaluationReport(
            model_stamp=self.embeddings.embedder.stamp,
            gallery=names[0],
            queries=names[1],
            n_gallery=int(gallery.labels.size),
            n_queries=int(queries.labels.size),
            recall={k: metrics.recall_at_k(hits, k) for k in options.ks},
            precision={k: metrics.precision_at_k(hits, k) for k in options.ks},
            mean_average_precision=metrics.mean_average_precision(hits, n_relevant),
            map_depth=depth,
            top1=_scores("top1", queries.labels, ranked[:, 0], classes, refuses=False),
            skipped=skipped,
        )
        if self.classifier_factory is not None:
            classifier = self.classifier_factory(store, repository)
            report.rules = [
                _rule_scores(rule, classifier, queries, classes) for rule in options.rules
            ]
        if (centres := self.centres()) is not None:
            predicted = centres.predict(queries.vectors, classes)
            report.rules.append(_scores("centres", queries.labels, predicted, classes, True))
        if self.leaks is not None:
            report.leaks = self.leaks.pairs(
                {
                    "gallery": (gallery.paths, gallery.vectors),
                    "query": (queries.paths, queries.vectors),
                }
            )
        report.seconds = time.perf_counter() - started
        report.files = _write_outputs(report, Path(out_dir), self.charts, self.documents)
        return report

    def _embed(
        self, items: Labelled, index: dict[str, int], desc: str, skipped: list[SkippedFile]
    ) -> _Embedded:
        label_of = {path: index[name] for path, name in items}
        images = [ImageInput.file(path) for path, _ in items]
        vectors, kept = self.embeddings.embed(images, skipped, self.progress, desc)
        paths = [image.name for image in kept]
        labels = np.asarray([label_of[path] for path in paths], dtype=np.int64)
        return _Embedded(paths, labels, vectors)

    def _gallery(
        self, gallery: _Embedded, classes: list[str]
    ) -> tuple[VectorStore, Repository, dict[int, int]]:
        """A throw-away store + repository holding the gallery (product id = class name)."""
        stamp = self.embeddings.embedder.stamp
        repository = self.repository_factory()
        records = repository.upsert_images(
            [
                ImageRecord(path, classes[label], "", 0, stamp)
                for path, label in zip(gallery.paths, gallery.labels.tolist(), strict=True)
            ]
        )
        ids = np.array([r.id for r in records], dtype=np.int64)
        store = self.store_factory()
        store.reset(stamp)
        store.add(ids, gallery.vectors)
        return store, repository, dict(zip(ids.tolist(), gallery.labels.tolist(), strict=True))


def _check_disjoint(gallery: Labelled, queries: Labelled) -> None:
    """A query that is also a gallery image would find itself: refuse rather than flatter."""
    shared = {str(Path(p).resolve()) for p, _ in gallery} & {
        str(Path(p).resolve()) for p, _ in queries
    }
    if shared:
        raise ConfigError(
            f"{len(shared)} query images are also gallery images (e.g. {min(shared)}): "
            "use two disjoint folders, or `split` and `evaluate --split`"
        )


def _labelled_tree(root: Path) -> Labelled:
    root = Path(root)
    if not root.is_dir():
        raise NotFound(f"folder not found: {root}")
    items = [(str(path), path.parent.name) for path in iter_image_files(root)]
    if not items:
        raise NotFound(f"no images under {root}")
    return items


def _scores(
    name: str, true: np.ndarray, predicted: np.ndarray, classes: list[str], refuses: bool
) -> RuleScores:
    """`predicted` holds class indices; with `refuses`, len(classes) means unclassifiable."""
    columns = [*classes, UNCLASSIFIABLE] if refuses else list(classes)
    matrix = metrics.confusion_matrix(true, predicted, len(classes), len(columns))
    per_class = metrics.per_class_accuracy(matrix)
    answered = predicted < len(classes)
    return RuleScores(
        name=name,
        accuracy=metrics.accuracy(true, predicted),
        coverage=float(answered.mean()) if answered.size else 0.0,
        classes=list(classes),
        columns=columns,
        per_class_accuracy={
            c: (None if np.isnan(v) else float(v)) for c, v in zip(classes, per_class, strict=True)
        },
        confusion=matrix.tolist(),
    )


def _rule_scores(
    rule: str, classifier: GalleryClassifier, queries: _Embedded, classes: Sequence[str]
) -> RuleScores:
    index = {name: i for i, name in enumerate(classes)}
    predictions = classifier.predict_vectors(queries.vectors, aggregation=rule)
    refused = len(classes)
    predicted = np.array(
        [
            refused
            if p.unclassifiable or p.class_name is None
            else index.get(p.class_name, refused)
            for p in predictions
        ],
        dtype=np.int64,
    )
    return _scores(rule, queries.labels, predicted, list(classes), refuses=True)


def _write_outputs(
    report: EvaluationReport, out_dir: Path, charts: Charts, documents: Documents
) -> dict[str, str]:
    files: dict[str, str] = {}
    for scores in [report.top1, *report.rules]:
        stem = f"confusion_{scores.name}"
        title = f"{scores.name}: accuracy {scores.accuracy:.3f}, coverage {scores.coverage:.3f}"
        confusion = Confusion.of(scores.classes, scores.columns, scores.confusion, title)
        csv_path = charts.confusion_csv(out_dir / f"{stem}.csv", confusion)
        png_path = charts.confusion_png(out_dir / f"{stem}.png", confusion)
        files[f"{stem}.csv"], files[f"{stem}.png"] = str(csv_path), str(png_path)
    files["report.json"] = str(out_dir / "report.json")
    data = report.as_dict() | {"files": files}
    confusions = {
        s.name: {"columns": s.columns, "rows": s.classes, "counts": s.confusion}
        for s in [report.top1, *report.rules]
    }
    documents.write(out_dir / "report.json", data | {"confusion": confusions}, indent=1)
    return files

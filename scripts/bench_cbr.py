"""Benchmark classification by retrieval on ../shared/data/clothing-small with EfficientNet-Lite0.

Gallery = the train split (rebuild over class folders); queries = the test split. Prints:
- top-1 accuracy per aggregation (max-pool, prototype, k-NN similarity- and 1/d-weighted);
- the unclassifiable rule: thresholds calibrated on the validation split for a target precision
  (0.9, 0.95), then precision / coverage of the accepted test predictions;
- predict latency: end to end per image (decode + embed + score) and scoring alone;
- with --synthetic N: scoring time against N random examples (the exact snapshot design at scale).

    python scripts/bench_cbr.py [--data DIR] [--limit N] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdata import link_class_folders, scratch_folder, scratch_settings

from app.container import build_container
from app.domain.calibration import choose_thresholds, precision_coverage
from app.domain.images import ImageInput
from app.domain.retrieval_scoring import LabelledGallery, ScoringParams, margins, score

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing-small"
SETUPS = {
    "max": ScoringParams("max"),
    "prototype": ScoringParams("prototype"),
    "knn (similarity)": ScoringParams("knn", knn_weighting="similarity"),
    "knn (1/d)": ScoringParams("knn", knn_weighting="inverse_distance"),
}
TARGETS = (0.9, 0.95)


def _embed_split(classifier, folder: Path) -> tuple[np.ndarray, np.ndarray, list[Path]]:
    batch = classifier.embed_images([ImageInput.file(folder)])
    truth = np.asarray([p.path.parent.name for p in batch.items], dtype=object)
    return batch.vectors, truth, [p.path for p in batch.items]


def _outcome(vectors, truth, gallery: LabelledGallery, params: ScoringParams):
    scores = score(vectors, gallery, params)
    probabilities = scores.probabilities
    names = np.asarray(gallery.class_names, dtype=object)
    correct = names[probabilities.argmax(axis=1)] == truth
    return scores.best_similarity, margins(probabilities), correct


def _accuracy_and_calibration(gallery, validation, test) -> None:
    print("\ntop-1 accuracy on test; thresholds (min similarity, min margin) calibrated on")
    print("validation for a target precision -> precision / coverage of the accepted test photos")
    for name, params in SETUPS.items():
        val = _outcome(*validation, gallery, params)
        tst = _outcome(*test, gallery, params)
        cells = []
        for target in TARGETS:
            choice = choose_thresholds(*val, target)
            precision, coverage = precision_coverage(*tst, choice.thresholds)
            t = choice.thresholds
            flag = "" if choice.reached else " (target not reached on validation)"
            cells.append(
                f"P>={target:g}: ({t.min_similarity:.3f}, {t.min_margin:.3f}) -> "
                f"{precision:.3f} / {coverage:.3f}{flag}"
            )
        print(f"{name:<18} {tst[2].mean():6.3f}   " + "   ".join(cells))


def _latency(classifier, paths: list[Path], vectors: np.ndarray) -> None:
    classifier.predict_images(ImageInput.files(paths[:1]))  # warm up
    end_to_end = []
    for path in paths[:60]:
        start = time.perf_counter()
        classifier.predict_images([ImageInput.file(path)])
        end_to_end.append((time.perf_counter() - start) * 1000)
    scoring = []
    for row in vectors[:200]:
        start = time.perf_counter()
        classifier.predict_vectors(row[None])
        scoring.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    classifier.predict_vectors(vectors)
    batch_ms = (time.perf_counter() - start) * 1000 / len(vectors)
    e2e, only = statistics.quantiles(end_to_end, n=100), statistics.quantiles(scoring, n=100)
    print(f"\npredict latency, one image end to end (decode+embed+score): p50 {e2e[49]:.1f} ms, "
          f"p99 {e2e[98]:.1f} ms")  # fmt: skip
    print(f"scoring alone: one query p50 {only[49]:.2f} ms, p99 {only[98]:.2f} ms; "
          f"batch of {len(vectors)}: {batch_ms:.3f} ms per query")  # fmt: skip


def _synthetic(n: int, dim: int = 1280, classes: int = 1000) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    labels = [f"c{i % classes:04d}" for i in range(n)]
    start = time.perf_counter()
    gallery = LabelledGallery.build(vectors, labels)
    build_s = time.perf_counter() - start
    queries = rng.standard_normal((64, dim)).astype(np.float32)
    print(f"\nsynthetic gallery {n} x {dim}, {classes} classes: snapshot build {build_s:.2f} s")
    for name, params in SETUPS.items():
        score(queries[:1], gallery, params)  # prototypes computed once
        start = time.perf_counter()
        score(queries[:1], gallery, params)
        one = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        score(queries, gallery, params)
        many = (time.perf_counter() - start) * 1000 / len(queries)
        print(f"  {name:<18} one query {one:7.1f} ms   batch of 64: {many:6.1f} ms per query")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="train photos per class")
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--synthetic", type=int, default=0, help="also time N random examples")
    args = parser.parse_args()
    work = scratch_folder(args.data, "bench-cbr-")
    n = link_class_folders(args.data / "train", work / "products", args.limit)
    settings = scratch_settings(work, products_dir=work / "products", embedding_model=args.model)
    container = build_container(settings)
    report = container.rebuild_service().run()
    classifier = container.retrieval_classifier()
    start = time.perf_counter()
    validation = _embed_split(classifier, args.data / "validation")
    test = _embed_split(classifier, args.data / "test")
    embed_s = time.perf_counter() - start
    gallery = classifier.snapshot().gallery
    print(f"model: {report.model_stamp}")
    print(
        f"gallery: {n} train photos, {len(gallery.class_names)} classes, embedded in "
        f"{report.seconds:.1f} s ({report.images_per_second:.1f} img/s); validation "
        f"{len(validation[0])} + test {len(test[0])} photos embedded in {embed_s:.1f} s"
    )
    _accuracy_and_calibration(gallery, validation[:2], test[:2])
    _latency(classifier, test[2], test[0])
    if args.synthetic:
        _synthetic(args.synthetic)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

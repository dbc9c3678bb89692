"""Benchmark classification on ../shared/data/clothing-small (EfficientNet-Lite0 on the CPU).

The 10 classes are treated as attribute "type" of one category, "clothing". Prints: training
(embedding the train split, then the head alone, then a re-train on cached embeddings), the
head's validation accuracy and its accuracy on the test split (top class, and among the answers
it was sure of), zero-shot accuracy when the model is a text-image one, and `classify` latency per
image (p50/p99: decode + embed + heads, one image per call, no query cache).

    python scripts/bench_classify.py [--data DIR] [--limit N] [--model efficientnet-lite0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdata import scratch_folder, scratch_settings

from app.container import build_container
from app.domain.heads import TrainOptions
from app.domain.images import ImageInput

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing-small"
CATEGORY, ATTRIBUTE = "clothing", "type"


def _link_training_set(src: Path, dst: Path, limit: int | None) -> list[str]:
    classes = sorted(p.name for p in src.iterdir() if p.is_dir())
    for cls in classes:
        folder = dst / CATEGORY / ATTRIBUTE / cls
        folder.mkdir(parents=True)
        for photo in sorted((src / cls).glob("*.jpg"))[:limit]:
            (folder / photo.name).symlink_to(photo)
    return classes


def _labels_yaml(classes: list[str]) -> str:
    return (
        f"categories:\n  {CATEGORY}:\n    attributes:\n      {ATTRIBUTE}:\n"
        f"        classes: [{', '.join(classes)}]\n"
        '        templates: ["a photo of a {}.", "a product photo of a {}."]\n'
    )


def _accuracy(container, tests: list[Path], use_trained: bool) -> tuple[float, float, float]:
    """(top-class accuracy, share of sure answers, accuracy among the sure answers)."""
    results = (
        container.classify_service().classify_images(ImageInput.files(tests), use_trained).results
    )
    answers = [next(a for a in r.attributes if a.name == ATTRIBUTE) for r in results]
    truth = [Path(r.image).parent.name for r in results]
    top = [next(iter(a.probabilities)) for a in answers]
    sure = [(a.value, t) for a, t in zip(answers, truth, strict=True) if a.value is not None]
    top_acc = sum(p == t for p, t in zip(top, truth, strict=True)) / len(truth)
    sure_acc = sum(v == t for v, t in sure) / len(sure) if sure else float("nan")
    return top_acc, len(sure) / len(truth), sure_acc


def _latency(container, tests: list[Path], use_trained: bool) -> list[float]:
    service = container.classify_service()
    service.classify_images(ImageInput.files(tests[:1]), use_trained)  # warm-up
    latencies = []
    for path in tests:
        start = time.perf_counter()
        service.classify_images([ImageInput.file(path)], use_trained)
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def classification_by_retrieval(container, tests: list[Path], gallery: Path) -> None:
    """The train split as the gallery (product id = class name): retrieval accuracy of the test
    photos per aggregation, their unclassifiable share, and `classify` latency with retrieval."""
    report = container.rebuild_service().run(gallery)
    print(f"gallery (rebuild):       {report.embedded} photos in {report.seconds:.1f} s")
    classifier = container.retrieval_classifier()
    batch = classifier.embed_images(ImageInput.files(tests))
    truth = [p.path.parent.name for p in batch.items]
    for aggregation in ("max", "prototype", "knn"):
        predictions = classifier.predict_vectors(batch.vectors, aggregation)
        top = [next(iter(p.class_probabilities)) for p in predictions]
        accuracy = sum(t == c for t, c in zip(truth, top, strict=True)) / len(truth)
        refused = sum(p.unclassifiable for p in predictions) / len(predictions)
        print(
            f"retrieval {aggregation:<9}      top-1 accuracy {accuracy:.3f}, "
            f"unclassifiable {refused:.1%}"
        )
    latencies = _latency(container, tests[:100], use_trained=True)
    q = statistics.quantiles(latencies, n=100)
    print(f"classify with retrieval: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms per image")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="train photos per class")
    parser.add_argument("--latency-images", type=int, default=100, help="test photos timed")
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--epochs", type=int, default=TrainOptions.epochs)
    parser.add_argument("--lr", type=float, default=TrainOptions.lr)
    args = parser.parse_args()
    work = scratch_folder(args.data, "bench-classify-")
    classes = _link_training_set(args.data / "train", work / "training", args.limit)
    (work / "labels.yaml").write_text(_labels_yaml(classes))
    settings = scratch_settings(
        work, embedding_model=args.model, labels_file=work / "labels.yaml",
        models_dir=work / "models", training_dir=work / "training", cache_size=0,
    )  # fmt: skip
    container = build_container(settings)
    tests = sorted(args.data.glob("test/*/*.jpg"))
    start = time.perf_counter()
    container.embedder().model.embed_images([container.preprocessor().prepare(tests[0])])
    load_s = time.perf_counter() - start

    options = TrainOptions(epochs=args.epochs, lr=args.lr)
    first = container.train_service().train(CATEGORY, ATTRIBUTE, options)
    again = container.train_service().train(CATEGORY, ATTRIBUTE, options)
    head = first.head
    n_photos = head.train_size + head.val_size
    print(f"model: {head.model_stamp}   train photos: {n_photos}   test photos: {len(tests)}")
    print(f"model load + warm-up:    {load_s:6.1f} s")
    print(
        f"train (embed + fit):     {first.seconds:6.1f} s ({n_photos / first.seconds:.1f} img/s); "
        f"again on cached embeddings {again.seconds:.1f} s"
    )
    print(f"head: {options}  validation accuracy {head.val_accuracy:.3f} ({head.val_size} photos)")
    top, answered, sure = _accuracy(container, tests, use_trained=True)
    print(
        f"head on test split:      accuracy {top:.3f} (chance {1 / len(classes):.2f}); "
        f"sure of {answered:.1%} of answers, accuracy {sure:.3f} among those"
    )
    if container.embedding_model().supports_text:
        top, answered, sure = _accuracy(container, tests, use_trained=False)
        print(f"zero-shot on test split: accuracy {top:.3f}; sure of {answered:.1%}, {sure:.3f}")
    else:
        print("zero-shot:               n/a (image-only model)")
    latencies = _latency(container, tests[: args.latency_images], use_trained=True)
    q = statistics.quantiles(latencies, n=100)
    print(
        f"classify latency:        p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms per image "
        f"({len(latencies)} images, one per call: decode + embed + heads)"
    )
    classification_by_retrieval(container, tests, args.data / "train")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

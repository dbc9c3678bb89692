"""Benchmark the main job on ../shared/data/clothing-small with EfficientNet-Lite0 on the CPU.

Prints: rebuild images/s end to end and for the model alone on pre-decoded tensors (their ratio
shows the cost of decoding and storage), a no-change rebuild, query latency p50/p99 against the full
gallery, and class hit@1 / hit@5 of test photos against the train gallery.

    python scripts/bench_search.py [--data DIR] [--limit N] [--model efficientnet-lite0]
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
from app.domain.images import ImageInput

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing-small"


def _model_alone(container, paths: list[Path], batch: int) -> float:
    embedder = container.embedder()
    pixels = np.stack([embedder.model.to_pixels(embedder.preprocessor.prepare(p)) for p in paths])
    embedder.model.embed_pixels(pixels[:batch])  # warm up
    start = time.perf_counter()
    for i in range(0, len(pixels), batch):
        embedder.model.embed_pixels(pixels[i : i + batch])
    return len(pixels) / (time.perf_counter() - start)


def _queries(container, paths: list[Path]) -> tuple[list[float], float, float]:
    service = container.search_service()
    latencies, hit1, hit5 = [], 0, 0
    for path in paths:
        start = time.perf_counter()
        hits = service.search_images([ImageInput.file(path)], k=5).results[0].hits
        latencies.append((time.perf_counter() - start) * 1000)
        classes = [h.product_id for h in hits]
        hit1 += classes[:1] == [path.parent.name]
        hit5 += path.parent.name in classes
    return latencies, hit1 / len(paths), hit5 / len(paths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="photos per class (default all)")
    parser.add_argument("--model", default="efficientnet-lite0")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    work = scratch_folder(args.data, "bench-search-")
    n = link_class_folders(args.data / "train", work / "products", args.limit)
    settings = scratch_settings(
        work, products_dir=work / "products", embedding_model=args.model,
        batch_size=args.batch_size, cache_size=0,
    )  # fmt: skip
    container = build_container(settings)
    tests = sorted(args.data.glob("test/*/*.jpg"))
    start = time.perf_counter()
    container.embedder().model.embed_images([container.preprocessor().prepare(tests[0])])
    load_s = time.perf_counter() - start
    report = container.rebuild_service().run()
    again = container.rebuild_service().run()
    model_rate = _model_alone(container, tests[:256], args.batch_size)
    latencies, hit1, hit5 = _queries(container, tests)
    q = statistics.quantiles(latencies, n=100)
    print(f"model: {report.model_stamp}   gallery: {n} train photos   queries: {len(tests)} test")
    print(f"model load + warm-up:   {load_s:6.1f} s (not in the rates below)")
    print(f"rebuild end to end:     {report.images_per_second:6.1f} img/s ({report.seconds:.1f} s)")
    print(
        f"model alone (tensors):  {model_rate:6.1f} img/s  -> end-to-end / model = "
        f"{report.images_per_second / model_rate:.2f}"
    )
    print(f"no-change rebuild:      {again.seconds:6.2f} s ({again.embedded} embedded)")
    print(f"query latency:          p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms (decode+embed+search)")
    print(f"class hit@1 / hit@5:    {hit1:.3f} / {hit5:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

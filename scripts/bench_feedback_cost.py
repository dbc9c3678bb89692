"""Figure for bounded feedback cost: search p50 with 0, 300 and 10,000 recorded verdicts.

A gallery of clothing-small train photos (--limit per class) is indexed with the configured
model (EfficientNet-Lite0 by default, offline). Verdicts are then written straight into the
feedback store: each is a real query embedding (validation photos) slightly perturbed, judged
good or bad on a random class, so that some are close to the timed query and re-rank it. The
same query photo is searched --repeat times at each level, the levels interleaved (copies of one
index and database, one per level), so a shared machine's load falls on all of them alike. Its
embedding comes from the in-memory cache, so the figure is the search itself: vector search,
judged-query lookup through the in-memory index, re-ranking. Printed side by side with the ratio
to no verdicts; the target is 10,000 verdicts within 1.5x of none.

    python scripts/bench_feedback_cost.py [--data DIR] [--limit 20] [--repeat 50]
                                          [--faiss-threads N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import load_settings
from app.container import build_container
from app.domain.feedback import Judgement
from app.domain.images import ImageInput
from scripts.benchdata import link_class_folders

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing-small"
LEVELS = (0, 300, 10_000)


def _add_verdicts(container, seeds: np.ndarray, classes: list[str], count: int, rng) -> None:
    store, stamp = container.feedback_store(), container.embedder().stamp
    for start in tqdm(range(0, count, 1000), desc=f"verdicts to {count}", leave=False):
        batch = []
        for _ in range(min(1000, count - start)):
            vector = seeds[rng.integers(len(seeds))] + rng.normal(0, 0.02, seeds.shape[1])
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            verdict = "good" if rng.random() < 0.5 else "bad"
            product = classes[rng.integers(len(classes))]
            batch.append(Judgement("bench", vector, product, verdict, stamp))
        store.add_judgements(batch)


def _settings(root: Path, products: Path):
    return load_settings(
        products_dir=products,
        index_dir=root / "index",
        database_url=f"sqlite:///{root / 'app.db'}",
        examples_dir=root / "examples",
    )


def _copies(first: Path, products: Path, count: int) -> list:
    """`count` containers over copies of the first one's index and database."""
    containers = []
    for n in range(count):
        root = first.parent / f"copy{n}"
        shutil.copytree(first / "index", root / "index")
        shutil.copy(first / "app.db", root / "app.db")
        containers.append(build_container(_settings(root, products)))
    return containers


def _p50s(containers: list, query: Path, repeat: int) -> list[float]:
    """The searches of the levels interleaved, so that load on a shared machine hits all alike."""
    services = [c.search_service() for c in containers]
    for service in services:
        # warm: embedding cached, judged index built
        service.search_images([ImageInput.file(query)], 10)
    times: list[list[float]] = [[] for _ in services]
    for _ in tqdm(range(repeat), desc="searches", leave=False):
        for service, spent in zip(services, times, strict=True):
            start = time.perf_counter()
            service.search_images([ImageInput.file(query)], 10)
            spent.append((time.perf_counter() - start) * 1000)
    return [statistics.median(t) for t in times]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=20, help="gallery photos per class")
    parser.add_argument("--repeat", type=int, default=50, help="timed searches per level")
    parser.add_argument(
        "--faiss-threads",
        type=int,
        default=0,
        help="FAISS OpenMP threads (0: its default). On a loaded machine every FAISS call with "
        "more than one thread waits for the scheduler (~30 ms here): 1 shows the search work",
    )
    args = parser.parse_args()
    if args.faiss_threads:
        import faiss

        faiss.omp_set_num_threads(args.faiss_threads)
    with tempfile.TemporaryDirectory() as tmp:
        first, products = Path(tmp) / "first", Path(tmp) / "products"
        link_class_folders(args.data / "train", products, args.limit)
        container = build_container(_settings(first, products))
        container.rebuild_service().run(None)
        queries = sorted((args.data / "validation").rglob("*.jpg"))[:20]
        seeds = container.embedder().embed_all(ImageInput.files(queries)).vectors
        classes = sorted(p.name for p in products.iterdir())
        containers = _copies(first, products, len(LEVELS))
        rng = np.random.default_rng(0)
        for level, copy in zip(LEVELS, containers, strict=True):
            _add_verdicts(copy, seeds, classes, level, rng)
        p50s = _p50s(containers, queries[0], args.repeat)
        print(f"gallery: {len(container.vector_store())} photos; {args.repeat} searches a level")
        print(f"{'verdicts':>9}  {'search p50':>11}  {'vs none':>8}")
        for level, p50 in zip(LEVELS, p50s, strict=True):
            print(f"{level:>9}  {p50:>8.2f} ms  {p50 / p50s[0]:>7.2f}x")


if __name__ == "__main__":
    main()

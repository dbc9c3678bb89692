"""Figure for bounded feedback cost: search p50 with 0, 300 and 10,000 recorded verdicts.

A gallery of clothing-small train photos (--limit per class) is indexed with the configured
model (EfficientNet-Lite0 by default, offline). Verdicts are then written straight into the
feedback store: each is the embedding of a validation photo other than the first, slightly
perturbed (cosine ~0.98 to it), judged good or bad on a random class. Two queries are timed:
an unjudged one (the first validation photo: verdicts exist, none near it) and a judged one
(the second: at 10,000 verdicts ~500 lie near it, so its hits are re-ranked). Its embedding
comes from the in-memory cache, so the figure is the search itself: vector search, judged-query
lookup through the in-memory index, re-ranking.

The levels are interleaved (copies of one index and database, one per level) and measured in
--rounds rounds of --repeat searches each: a round's p50 per level, then the median of the
rounds' p50s and of their ratios to no verdicts, so a shared machine's load falls on all levels
alike. The target is 10,000 verdicts within 1.5x of none.

    python scripts/bench_feedback_cost.py [--data DIR] [--limit 20] [--repeat 50] [--rounds 9]
                                          [--faiss-threads N]
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
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
            vector = seeds[rng.integers(len(seeds))] + rng.normal(0, 0.004, seeds.shape[1])
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
        # the SQLite backup API: a plain file copy would leave out what is still in the WAL
        src, dst = sqlite3.connect(first / "app.db"), sqlite3.connect(root / "app.db")
        with closing(src), closing(dst):
            src.backup(dst)
        containers.append(build_container(_settings(root, products)))
    return containers


def _p50s(containers: list, query: Path, repeat: int) -> list[float]:
    """One round: the levels' searches interleaved, so that load hits all alike."""
    services = [c.search_service() for c in containers]
    times: list[list[float]] = [[] for _ in services]
    for _ in range(repeat):
        for service, spent in zip(services, times, strict=True):
            start = time.perf_counter()
            service.search_images([ImageInput.file(query)], 10)
            spent.append((time.perf_counter() - start) * 1000)
    return [statistics.median(t) for t in times]


def _rounds(containers: list, query: Path, repeat: int, rounds: int) -> tuple[list, list]:
    """Median over rounds of each level's p50, and of its ratio to the first level's."""
    for service in (c.search_service() for c in containers):
        service.search_images([ImageInput.file(query)], 10)  # warm: cached, judged index built
    runs = [_p50s(containers, query, repeat) for _ in tqdm(range(rounds), leave=False)]
    p50s = [statistics.median(run[n] for run in runs) for n in range(len(containers))]
    ratios = [statistics.median(run[n] / run[0] for run in runs) for n in range(len(containers))]
    return p50s, ratios


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=20, help="gallery photos per class")
    parser.add_argument("--repeat", type=int, default=50, help="timed searches per level a round")
    parser.add_argument("--rounds", type=int, default=9, help="rounds (median of their p50s)")
    parser.add_argument(
        "--faiss-threads",
        type=int,
        default=0,
        help="FAISS OpenMP threads (0: its default). On a loaded machine every FAISS call with "
        "more than one thread waits for the scheduler (~30 ms here): 1 shows the search work",
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    if args.faiss_threads:
        import faiss

        faiss.omp_set_num_threads(args.faiss_threads)
    with tempfile.TemporaryDirectory() as tmp:
        first, products = Path(tmp) / "first", Path(tmp) / "products"
        link_class_folders(args.data / "train", products, args.limit)
        container = build_container(_settings(first, products))
        container.rebuild_service().run(None)
        queries = sorted((args.data / "validation").rglob("*.jpg"))[:20]
        seeds = container.embedder().embed_all(ImageInput.files(queries[1:])).vectors
        classes = sorted(p.name for p in products.iterdir())
        containers = _copies(first, products, len(LEVELS))
        rng = np.random.default_rng(0)
        for level, copy in zip(LEVELS, containers, strict=True):
            _add_verdicts(copy, seeds, classes, level, rng)
        print(f"gallery: {len(container.vector_store())} photos; "
              f"{args.rounds} rounds of {args.repeat} searches a level")  # fmt: skip
        print(f"{'query':<10} {'verdicts':>9}  {'search p50':>11}  {'vs none':>8}")
        for label, query in (("unjudged", queries[0]), ("judged", queries[1])):
            p50s, ratios = _rounds(containers, query, args.repeat, args.rounds)
            for level, p50, ratio in zip(LEVELS, p50s, ratios, strict=True):
                print(f"{label:<10} {level:>9}  {p50:>8.2f} ms  {ratio:>7.2f}x")


if __name__ == "__main__":
    main()

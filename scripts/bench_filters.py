"""Benchmark filtered search inside the vector store against unfiltered search.

N synthetic 512-d unit vectors (1,000 centres plus noise) in FAISS flat and HNSW, 1 thread (and
Qdrant local mode up to --qdrant-max vectors); 50 single queries with k=10. Printed side by side,
per store: median latency and the mean number of hits returned for no filter, a filter keeping
1% and 10% of the catalogue (IdFilter: FAISS IDSelector, or exact search among the kept vectors
for HNSW when they are few; Qdrant has_id filter), an exclusion of 1%, and for contrast the naive
post-filter (top-10 first, then drop the disallowed hits), which loses most hits at 1%.

    python scripts/bench_filters.py [--n 100000] [--qdrant-max 20000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.search_filters import IdFilter  # noqa: E402
from app.infrastructure.vector_store.faiss_store import (  # noqa: E402
    FaissIndexOptions,
    FaissVectorStore,
    load_faiss,
)
from app.infrastructure.vector_store.qdrant_store import (  # noqa: E402
    QdrantOptions,
    QdrantVectorStore,
)

DIM, K, QUERIES = 512, 10, 50


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(1000, DIM))
    vectors = unit(centres[rng.integers(0, 1000, n)] + 0.6 * rng.normal(size=(n, DIM)))
    queries = unit(centres[rng.integers(0, 1000, QUERIES)] + 0.6 * rng.normal(size=(QUERIES, DIM)))
    return vectors, queries


def measure(search, queries: np.ndarray) -> tuple[float, float]:
    """Median ms of single queries and the mean number of hits returned."""
    search(queries[:1])  # warm up
    times, counts = [], []
    for q in queries:
        started = time.perf_counter()
        rows = search(q[None, :])
        times.append((time.perf_counter() - started) * 1000)
        counts.append(len(rows[0]))
    return statistics.median(times), float(np.mean(counts))


def bench(name: str, store, vectors: np.ndarray, queries: np.ndarray) -> None:
    n = vectors.shape[0]
    ids = np.arange(n, dtype=np.int64)
    started = time.perf_counter()
    store.reset("bench")
    for start in range(0, n, 10_000):
        store.add(ids[start : start + 10_000], vectors[start : start + 10_000])
    store.search(queries[:1], K)  # builds what is built lazily
    print(f"\n{name}: {n} vectors loaded in {time.perf_counter() - started:.1f}s")
    rng = np.random.default_rng(1)
    one, ten = (np.sort(rng.choice(n, n // d, replace=False)) for d in (100, 10))
    allowed_one = set(one.tolist())

    def post_filter(q):
        return [[h for h in row if h[0] in allowed_one] for row in store.search(q, K)]

    cases = {
        "no filter": lambda q: store.search(q, K),
        "keep 1%": lambda q: store.search(q, K, IdFilter.of(one)),
        "keep 10%": lambda q: store.search(q, K, IdFilter.of(ten)),
        "exclude 1%": lambda q: store.search(q, K, IdFilter.of(one, exclude=True)),
        "post-filter 1% (naive)": post_filter,
    }
    print(f"  {'case':<24} {'median ms':>9} {'hits of ' + str(K):>9}")
    for case, search in cases.items():
        ms, hits = measure(search, queries)
        print(f"  {case:<24} {ms:>9.2f} {hits:>9.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--qdrant-max", type=int, default=20_000)
    args = parser.parse_args()
    vectors, queries = data(args.n)
    # single queries: one thread (OpenMP threads spinning on a shared 2-core machine make the
    # unfiltered flat scan 10x slower and the figures noise)
    load_faiss().omp_set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        bench("FAISS flat", FaissVectorStore(Path(tmp) / "flat"), vectors, queries)
        hnsw = FaissVectorStore(Path(tmp) / "hnsw", options=FaissIndexOptions(kind="hnsw"))
        bench("FAISS HNSW (M 32, efSearch 128)", hnsw, vectors, queries)
        small = min(args.n, args.qdrant_max)
        qdrant = QdrantVectorStore(QdrantOptions(path=Path(tmp) / "qdrant"))
        bench("Qdrant local mode (exact, pure Python)", qdrant, vectors[:small], queries)
    print("\n(one shared 2-core machine: compare figures within this run)")


if __name__ == "__main__":
    main()

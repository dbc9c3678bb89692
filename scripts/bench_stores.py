"""Benchmark the vector stores: FAISS flat / IVF / HNSW and Qdrant (local mode).

For each size of synthetic 512-d unit vectors (clustered like real embeddings: 1,000 centres plus
noise), and optionally for the clothing-small embeddings (EfficientNet-Lite0, 1280-d), it measures:
insert throughput (adds in batches of 10,000 plus the save, which trains IVF), query latency
p50 / p99 for single queries with k=10, memory (anonymous RSS growth of the process that built the
store), size on disk, and recall@10 against exact search. Each store runs in its own process.

    python scripts/bench_stores.py --sizes 10000 100000 [--stores flat ivf hnsw qdrant] [--real]

Qdrant here is qdrant-client's local mode: pure Python and exact (a server uses HNSW), so it is
skipped above --qdrant-max; FAISS HNSW is skipped above --hnsw-max (graph build time). Skips are
printed. Data, ground truth and results go to bench-out/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "bench-out"
DIM = 512
K = 10
CLOTHING = ROOT.parent / "shared" / "data" / "clothing-small"
STORES = ("flat", "ivf", "hnsw", "qdrant")


# ---- data ------------------------------------------------------------------------------------


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def synthetic(n: int, queries: int, noise: float = 0.6) -> tuple[Path, Path]:
    """Clustered unit vectors (cached in bench-out/): the gallery and held-out queries. The more
    `noise` around the 1,000 centres, the less structure and the harder for IVF and HNSW."""
    name = f"synth-{n}-{DIM}" + ("" if noise == 0.6 else f"-noise{noise}")
    data, query_file = OUT / f"{name}.npy", OUT / f"{name}-queries.npy"
    if not data.exists():
        rng = np.random.default_rng(n)
        centres = rng.standard_normal((1000, DIM)).astype(np.float32)
        gallery = np.lib.format.open_memmap(data, mode="w+", dtype=np.float32, shape=(n, DIM))
        for start in range(0, n, 100_000):
            m = min(100_000, n - start)
            rows = centres[rng.integers(0, 1000, m)] + noise * rng.standard_normal((m, DIM))
            gallery[start : start + m] = unit(rows)
        gallery.flush()
        picks = centres[rng.integers(0, 1000, queries)]
        np.save(query_file, unit(picks + noise * rng.standard_normal((queries, DIM))))
    return data, query_file


def clothing_embeddings() -> tuple[Path, Path]:
    """EfficientNet-Lite0 embeddings of clothing-small: train+validation gallery, test queries."""
    data, query_file = OUT / "clothing-lite0.npy", OUT / "clothing-lite0-queries.npy"
    if data.exists():
        return data, query_file
    from app.config import load_settings
    from app.container import build_container
    from app.domain.images import ImageInput

    settings = load_settings(_env_file=None, embedding_model="efficientnet-lite0", batch_size=32)
    embedder = build_container(settings).embedder()

    def embed(paths: list[Path]) -> np.ndarray:
        batches = list(embedder.embed_files(paths, ImageInput.file))
        return np.concatenate([b.vectors for b in batches if b.items])

    gallery = sorted(CLOTHING.glob("train/*/*.jpg")) + sorted(CLOTHING.glob("validation/*/*.jpg"))
    np.save(data, unit(embed(gallery)))
    np.save(query_file, unit(embed(sorted(CLOTHING.glob("test/*/*.jpg")))))
    return data, query_file


def ground_truth(data: Path, queries: Path) -> Path:
    """Exact top-k ids by inner product (cosine on unit vectors), in blocks."""
    truth = data.with_suffix(".truth.npy")
    if not truth.exists():
        gallery, q = np.load(data, mmap_mode="r"), np.load(queries)
        best = np.full((len(q), K), -np.inf, dtype=np.float32)
        ids = np.zeros((len(q), K), dtype=np.int64)
        for start in range(0, len(gallery), 200_000):
            scores = q @ np.asarray(gallery[start : start + 200_000]).T
            all_scores = np.concatenate([best, scores], axis=1)
            all_ids = np.concatenate(
                [ids, np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)],
                axis=1,
            )
            top = np.argsort(-all_scores, axis=1)[:, :K]
            best = np.take_along_axis(all_scores, top, 1)
            ids = np.take_along_axis(all_ids, top, 1)
        np.save(truth, ids)
    return truth


# ---- one store, in its own process -----------------------------------------------------------


def rss_anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_store(kind: str, folder: Path):
    from app.infrastructure.vector_store.faiss_store import FaissIndexOptions, FaissVectorStore
    from app.infrastructure.vector_store.qdrant_store import QdrantOptions, QdrantVectorStore

    if kind == "qdrant":
        return QdrantVectorStore(QdrantOptions(path=folder, batch_size=1000), "cosine")
    # bench: IVF trains from 1,000 vectors (the store's default waits for 10,000)
    options = FaissIndexOptions(kind=kind, ivf_min_train=1000)
    return FaissVectorStore(folder, "cosine", options)


def worker(kind: str, data_file: Path, query_file: Path, truth_file: Path) -> dict:
    data, queries = np.load(data_file, mmap_mode="r"), np.load(query_file)
    truth = np.load(truth_file)
    folder = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-", dir=OUT))
    try:
        store = make_store(kind, folder)
        store.reset("bench")
        rss0 = rss_anon_mb()
        start = time.perf_counter()
        for first in range(0, len(data), 10_000):
            rows = np.asarray(data[first : first + 10_000])
            store.add(np.arange(first, first + len(rows)), rows)
        added = time.perf_counter()
        store.save()
        done = time.perf_counter()
        memory = rss_anon_mb() - rss0
        for q in queries[:5]:  # warm-up
            store.search(q[None, :], K)
        latencies, found = [], []
        for q in queries:
            t = time.perf_counter()
            hits = store.search(q[None, :], K)[0]
            latencies.append((time.perf_counter() - t) * 1000)
            found.append({i for i, _ in hits})
        recall = np.mean([len(f & set(t.tolist())) / K for f, t in zip(found, truth, strict=True)])
        cuts = statistics.quantiles(latencies, n=100)
        return {
            "store": kind,
            "n": len(data),
            "dim": data.shape[1],
            "insert_per_s": len(data) / (done - start),
            "add_s": added - start,
            "save_s": done - added,
            "p50_ms": cuts[49],
            "p99_ms": cuts[98],
            "memory_mb": memory,
            "disk_mb": store.info().bytes_on_disk / 1e6 or folder_mb(folder),
            "recall_at_10": float(recall),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


# ---- the driver ------------------------------------------------------------------------------


def run_one(kind: str, label: str, files: tuple[Path, Path, Path], threads: int) -> dict | None:
    command = [sys.executable, __file__, "--threads", str(threads), "--worker", kind]
    command += [str(f) for f in files]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  {kind:<7} {label}: failed\n{done.stderr[-2000:]}", flush=True)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["data"] = label
    print(row(result), flush=True)
    return result


def row(r: dict) -> str:
    return (
        f"| {r['data']:<16} | {r['store']:<7} | {r['insert_per_s']:>10,.0f} | "
        f"{r['p50_ms']:>7.2f} | {r['p99_ms']:>7.2f} | {r['memory_mb']:>8,.0f} | "
        f"{r['disk_mb']:>8,.0f} | {r['recall_at_10']:>6.3f} |"
    )


HEADER = (
    "| data             | store   | insert/s   | p50 ms  | p99 ms  | RAM MB   | disk MB  | R@10   |"
    "\n|------------------|---------|------------|---------|---------|----------|----------|"
    "--------|"
)


def skipped(kind: str, n: int, args: argparse.Namespace) -> str | None:
    if kind == "qdrant" and n > args.qdrant_max:
        return f"Qdrant local mode is pure Python and exact: skipped above {args.qdrant_max:,}"
    if kind == "hnsw" and n > args.hnsw_max:
        return f"FAISS HNSW graph build: skipped above {args.hnsw_max:,} (--hnsw-max)"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--stores", nargs="+", choices=STORES, default=list(STORES))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--noise", type=float, default=0.6, help="spread around the centres")
    parser.add_argument("--real", action="store_true", help="also clothing-small embeddings")
    parser.add_argument("--qdrant-max", type=int, default=100_000)
    parser.add_argument("--hnsw-max", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=0, help="FAISS threads (0: its default)")
    parser.add_argument("--worker", nargs=4, metavar=("STORE", "DATA", "QUERIES", "TRUTH"))
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.worker:
        if args.threads:
            from app.infrastructure.vector_store.faiss_store import load_faiss

            load_faiss().omp_set_num_threads(args.threads)
        kind, *files = args.worker
        print(json.dumps(worker(kind, *map(Path, files))))
        return 0

    tag = "" if args.noise == 0.6 else f" n{args.noise:g}"
    datasets = [(f"synth {n:,}{tag}", *synthetic(n, args.queries, args.noise)) for n in args.sizes]
    if args.real:
        datasets.append(("clothing-small", *clothing_embeddings()))
    threads = args.threads or "default"
    print(f"cores: {os.cpu_count()}, FAISS threads: {threads}, load: {os.getloadavg()[0]:.1f}")
    print(HEADER, flush=True)
    results, notes = [], []
    for label, data, queries in datasets:
        files = (data, queries, ground_truth(data, queries))
        n = len(np.load(data, mmap_mode="r"))
        for kind in args.stores:
            if reason := skipped(kind, n, args):
                notes.append(f"{kind} at {label}: {reason}")
                continue
            if (result := run_one(kind, label, files, args.threads)) is not None:
                results.append(result)
    for note in notes:
        print(f"note: {note}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"stores-{stamp}.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

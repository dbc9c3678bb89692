"""Benchmark `dedup` and the split-leak check on the shared photos (EfficientNet-Lite0).

For each data set (clothing-small, cub100-birds, eth80-groups) it indexes the photos into a work
folder (incremental: a second run re-uses the index), then prints side by side, per threshold:
groups, conflict groups, near-duplicate pairs, wall and CPU time and peak Python memory of
`dedup` (the store's range search, FAISS flat, one thread), and for the data sets with
train/val/test folders the pairs that straddle splits (the `split` leak check on the same
vectors). It also checks the known cases: the photo filed as shorts and as skirt in
clothing-small, the 7 listed pairs of cub100-birds. Then it plants copies of 20 clothing photos
(JPEG q70 + 90% resize, 5% crop, exact copy) and prints how alike each copy is to its original.

    python scripts/bench_dedup.py [--workdir bench-out/dedup] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchdata import scratch_settings  # noqa: E402

from app.container import build_container  # noqa: E402
from app.domain.duplicates import DedupScope  # noqa: E402
from app.domain.images import ImageInput  # noqa: E402
from app.infrastructure.vector_store.faiss_indexes import load_faiss  # noqa: E402
from app.services.dedup import DedupOptions  # noqa: E402

SETS = ("clothing-small", "cub100-birds", "eth80-groups")
THRESHOLDS = (0.90, 0.93, 0.94, 0.95, 0.97)
SPLITS = ("train", "val", "validation", "test")


def container_for(data: Path, work: Path):
    settings = scratch_settings(work, products_dir=data)
    # EMBEDDING_MODEL=auto: the packaged EfficientNet-Lite0 offline
    return build_container(settings)


def timed_dedup(container, threshold: float):
    tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    report = container.dedup_service().find(DedupOptions(threshold, DedupScope.ALL))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return report, (seconds, cpu), peak


def split_of(path: str, data: Path) -> str | None:
    top = Path(path).relative_to(data).parts[0]
    return top if top in SPLITS else None


def leaks(container, data: Path, threshold: float):
    """The `split` leak check on the indexed vectors, grouped by top-level split folder."""
    store, repo = container.vector_store(), container.repository()
    records = [r for r in repo.list_images() if split_of(r.path, data)]
    named = {}
    for split in SPLITS:
        rows = [r for r in records if split_of(r.path, data) == split]
        if rows:
            ids = np.array([r.id for r in rows], dtype=np.int64)
            named[split] = ([str(Path(r.path).relative_to(data)) for r in rows], store.vectors(ids))
    finder = container.leak_finder()
    finder.threshold = threshold
    return finder.pairs(named) if len(named) > 1 else None


def listed_pairs(data: Path) -> list[tuple[str, str]]:
    listing = data / "near_duplicates.csv"
    if not listing.is_file():
        return []
    with open(listing, newline="") as fh:
        return [(row["path_a"], row["path_b"]) for row in csv.DictReader(fh)]


def bench_set(name: str, data: Path, work: Path) -> None:
    container = container_for(data, work)
    started = time.perf_counter()
    report = container.rebuild_service().run()
    seconds = time.perf_counter() - started
    print(f"\n## {name}: {report.scanned} photos, index ready in {seconds:.0f}s "
          f"({report.embedded} embedded now)")  # fmt: skip
    listed = listed_pairs(data)
    print(f"{'threshold':>9} {'groups':>6} {'conflicts':>9} {'pairs':>6} {'wall s':>7} "
          f"{'CPU s':>6} {'peak MB':>7} {'leaks':>6} {'listed found':>12}")  # fmt: skip
    for threshold in THRESHOLDS:
        found, seconds, peak = timed_dedup(container, threshold)
        pairs = {
            (Path(r.path).relative_to(data).as_posix()) for g in found.groups for r in g.images
        }
        conflicts = sum(g.conflict for g in found.groups)
        n_pairs = sum(len(g.pairs) for g in found.groups)
        leaked = leaks(container, data, threshold)
        leak_text = "-" if leaked is None else str(len(leaked))
        hit = sum(a in pairs and b in pairs for a, b in listed)
        listed_text = f"{hit}/{len(listed)}" if listed else "-"
        print(f"{threshold:>9.2f} {len(found.groups):>6} {conflicts:>9} {n_pairs:>6} "
              f"{seconds[0]:>7.2f} {seconds[1]:>6.2f} {peak / 1e6:>7.1f} {leak_text:>6} "
              f"{listed_text:>12}")  # fmt: skip
        if name == "cub100-birds" and leaked:
            listed_set = {frozenset(p) for p in listed}
            known = sum(frozenset((x.a, x.b)) in listed_set for x in leaked)
            print(f"{'':>9} leaks that are listed pairs: {known} of the 5 listed across splits")
    conflict_groups = [g for g in container.dedup_service().find().groups if g.conflict]
    for group in conflict_groups[:3]:
        shown = ", ".join(f"{r.product_id}:{Path(r.path).name}" for r in group.images)
        print(f"  conflict at the default threshold ({group.similarity:.4f}): {shown}")


def planted(data: Path, work: Path) -> None:
    """How alike planted copies are to their originals (the threshold must keep them)."""
    photos = [sorted((data / "train" / c).glob("*.jpg"))[3] for c in sorted(
        p.name for p in (data / "train").iterdir())]  # fmt: skip
    photos += [sorted((data / "train" / c).glob("*.jpg"))[7] for c in sorted(
        p.name for p in (data / "train").iterdir())]  # fmt: skip
    folder = Path(tempfile.mkdtemp(dir=work))
    copies = {"JPEG q70 + 90% resize": [], "5% crop": [], "exact copy": []}
    for i, photo in enumerate(photos):
        with Image.open(photo) as img:
            rgb = img.convert("RGB")
        small = rgb.resize((int(rgb.width * 0.9), int(rgb.height * 0.9)))
        small.save(folder / f"{i}-q70.jpg", quality=70)
        dx, dy = rgb.width // 40, rgb.height // 40
        rgb.crop((dx, dy, rgb.width - dx, rgb.height - dy)).save(
            folder / f"{i}-crop.jpg", quality=95
        )
        shutil.copyfile(photo, folder / f"{i}-copy.jpg")
        for kind, suffix in zip(copies, ("q70", "crop", "copy"), strict=True):
            copies[kind].append(folder / f"{i}-{suffix}.jpg")
    embedder = container_for(data, work).embedder()
    originals = embedder.embed_all(ImageInput.files(photos)).vectors
    print(f"\n## planted copies of {len(photos)} clothing-small photos: cosine to the original")
    for kind, paths in copies.items():
        sims = np.einsum("ij,ij->i", originals, embedder.embed_all(ImageInput.files(paths)).vectors)
        print(f"  {kind:<22} min {sims.min():.4f}  median {np.median(sims):.4f}")
    shutil.rmtree(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench-out" / "dedup")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    args = parser.parse_args()
    load_faiss().omp_set_num_threads(1)  # steadier times on a shared machine
    for name in args.sets:
        work = args.workdir / name
        work.mkdir(parents=True, exist_ok=True)
        bench_set(name, args.data / name, work)
    if "clothing-small" in args.sets:
        planted(args.data / "clothing-small", args.workdir)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {rss:.0f} MB (model and indexes included); the machine was shared")


if __name__ == "__main__":
    main()

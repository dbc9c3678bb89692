"""Use case: near-duplicates that straddle train/val/test splits (a leak), even when the file
names share no ID. Vectors go into a throw-away store and are paired by its range search."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.domain.duplicates import Leak, score_to_similarity, similarity_to_score
from app.domain.images import ImageInput
from app.interfaces.vector_store import VectorStore
from app.services.cached_embeddings import CachedEmbeddings
from app.services.progress import ProgressFactory, no_progress

NEIGHBOURS = 8  # near neighbours looked at per image
BLOCK = 1024
Named = dict[str, tuple[Sequence[str], np.ndarray]]  # split -> (paths, vectors)


@dataclass(eq=False)
class LeakFinder:
    embeddings: CachedEmbeddings  # photos embedded once per content, kept across runs
    store_factory: Callable[[], VectorStore]
    threshold: float  # cosine similarity, as for `dedup`
    progress: ProgressFactory = no_progress

    def find(self, files: dict[str, Sequence[str]], root: Path) -> list[Leak]:
        """Embed the files of each split (paths relative to `root`; unreadable ones are left
        out) and pair them; the leaks name the files as given."""
        named: Named = {}
        for split, paths in files.items():
            given = {ImageInput.file(root / p): p for p in paths}
            desc = f"checking {split} for near-duplicates"
            vectors, kept = self.embeddings.embed(list(given), [], self.progress, desc)
            named[split] = ([given[image] for image in kept], vectors)
        return self.pairs(named)

    def pairs(self, named: Named) -> list[Leak]:
        """Pairs at least `threshold` alike whose images lie in different splits, best first."""
        paths = [(split, p) for split, (names, _) in named.items() for p in names]
        blocks = [v for _, v in named.values() if len(v)]
        if not blocks:
            return []
        vectors = np.concatenate(blocks).astype(np.float32)
        store = self.store_factory()
        store.reset(self.embeddings.embedder.stamp)
        store.add(np.arange(len(paths), dtype=np.int64), vectors)
        radius = similarity_to_score(self.threshold, store.metric)
        found: dict[tuple[int, int], Leak] = {}
        for start in range(0, len(paths), BLOCK):
            rows = store.within(vectors[start : start + BLOCK], radius, NEIGHBOURS)
            for a, row in enumerate(rows, start):
                for b, score in row:
                    (sa, pa), (sb, pb) = paths[min(a, b)], paths[max(a, b)]
                    if sa != sb:
                        sim = min(1.0, score_to_similarity(score, store.metric))
                        found[(min(a, b), max(a, b))] = Leak(pa, sa, pb, sb, sim)
        return sorted(found.values(), key=lambda x: (-x.similarity, x.a, x.b))

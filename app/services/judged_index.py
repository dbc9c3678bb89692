"""Judged queries found through a vector index, not by reading every verdict on every search.

Re-ranking needs the earlier judged queries close to a new query. The verdicts' query vectors are
kept in an in-memory vector store (one per process, filled once from the feedback store); each
search first asks the feedback store for its (count, highest id), a one-row query answered from
indexes (at most once a RECHECK_SECONDS; at once after this process wrote verdicts), and loads
only the verdicts added since. Deletions reload it whole. So a search costs a range search in
memory and now and then one small query, whether there are 300 verdicts or 10,000.

A search with hundreds of judged queries near it is dominated by that range search's graph walk
(memory-bound: the walk reads each visited vector). The index therefore keeps 8-bit codes (see
wiring/feedback.py), and `changes` sums the adjustments straight from the hits, without a record
per judged query.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import numpy as np

from app.domain.feedback import GOOD, JudgedNeighbour, Judgement, summed_changes
from app.interfaces.feedback import FeedbackStore
from app.interfaces.vector_store import VectorStore

MAX_NEIGHBOURS = 100  # judged queries one search takes into account, the closest first
RECHECK_SECONDS = 1.0  # verdicts written by other processes are seen within this long


class JudgedIndex:
    def __init__(
        self,
        feedback: FeedbackStore,
        new_store: Callable[[], VectorStore],
        recheck_seconds: float = RECHECK_SECONDS,
    ) -> None:
        self._feedback = feedback
        self._new_store = new_store
        self._recheck = recheck_seconds
        self._checked_at = -math.inf
        self._lock = threading.Lock()
        self._store: VectorStore | None = None
        self._stamp: str | None = None
        self._seen = (0, 0)  # (count, highest id) of the verdicts loaded
        self._verdict: dict[int, tuple[str, float]] = {}

    def near(
        self, queries: np.ndarray, similarity: float, model_stamp: str
    ) -> list[list[JudgedNeighbour]]:
        """Per query row, the judged queries with cosine similarity >= `similarity`."""
        return [
            [JudgedNeighbour(*self._verdict[i], similarity=s) for i, s in row]
            for row in self._within(queries, similarity, model_stamp)
        ]

    def changes(
        self, queries: np.ndarray, similarity: float, weight: float, model_stamp: str
    ) -> list[dict[str, float]]:
        """Per query row, `feedback_adjustments` of its judged queries (no record each)."""
        changes = []
        for row in self._within(queries, similarity, model_stamp):
            verdicts = [self._verdict[i] for i, _ in row]
            products = [product for product, _ in verdicts]
            signs = np.array([sign for _, sign in verdicts], dtype=np.float64)
            similarities = np.array([s for _, s in row], dtype=np.float64)
            changes.append(summed_changes(products, signs, similarities, weight))
        return changes

    def _within(
        self, queries: np.ndarray, similarity: float, model_stamp: str
    ) -> list[list[tuple[int, float]]]:
        with self._lock:
            self._refresh(model_stamp)
            store = self._store
            if store is None or not len(store):
                return [[] for _ in range(len(queries))]
            return store.within(np.asarray(queries, dtype=np.float32), similarity, MAX_NEIGHBOURS)

    def load(self, model_stamp: str) -> None:
        """Build the index now (the API does it at start-up, not at the first search)."""
        with self._lock:
            self._refresh(model_stamp)

    def changed(self) -> None:
        """Verdicts were written or cleared in this process: the next search looks now."""
        self._checked_at = -math.inf

    def _refresh(self, stamp: str) -> None:
        """(count, highest id) of all verdicts tells whether anything changed; new ones are
        read by id (an index range), deletions or another model mean reading them all."""
        now = time.monotonic()
        if stamp == self._stamp and now - self._checked_at < self._recheck:
            return
        summary = self._feedback.judgement_summary()
        self._checked_at = now
        if stamp == self._stamp and summary == self._seen:
            return
        count, top = summary
        seen_count, seen_top = self._seen
        if stamp != self._stamp or top < seen_top or count < seen_count:
            self._reload(stamp)
            return
        new = self._feedback.list_judgements(after_id=seen_top)
        if seen_count + len(new) != count:  # some were deleted meanwhile: start again
            self._reload(stamp)
            return
        self._add([j for j in new if j.model_stamp == stamp])
        self._seen = (count, max([top, *(int(j.id or 0) for j in new)]))

    def _reload(self, stamp: str) -> None:
        everything = self._feedback.list_judgements()
        self._store, self._stamp, self._verdict = None, stamp, {}
        self._add([j for j in everything if j.model_stamp == stamp])
        self._seen = (len(everything), max((int(j.id or 0) for j in everything), default=0))

    def _add(self, judged: list[Judgement]) -> None:
        if not judged:
            return
        if self._store is None:
            self._store = self._new_store()
            self._store.reset(self._stamp or "")
        ids = np.array([j.id for j in judged], dtype=np.int64)
        self._store.add(ids, np.stack([np.asarray(j.query_vector) for j in judged]))
        for j in judged:
            self._verdict[int(j.id or 0)] = (j.product_id, 1.0 if j.verdict == GOOD else -1.0)

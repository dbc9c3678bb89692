"""Judged queries through an in-memory vector index, kept fresh with one small query a search."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.feedback import Judgement, feedback_adjustments
from app.infrastructure.database.feedback_store import SqlFeedbackStore
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.vector_store.faiss_store import FaissVectorStore
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.judged_index import MAX_NEIGHBOURS, JudgedIndex
from app.wiring.feedback import JUDGED_INDEX


class CountingStore(SqlFeedbackStore):
    """The real store, counting how many verdicts searches read."""

    read = 0

    def list_judgements(self, *args, **kwargs):
        found = super().list_judgements(*args, **kwargs)
        self.read += len(found)
        return found


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def _verdict(vector, product: str, verdict: str = "good", stamp: str = "m") -> Judgement:
    return Judgement("h", vector, product, verdict, stamp)


def test_searches_read_only_new_verdicts_and_follow_other_writers(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    mine = CountingStore(SqlRepository(url).engine)
    other_process = SqlFeedbackStore(SqlRepository(url).engine)
    index = JudgedIndex(mine, MemoryVectorStore, recheck_seconds=0)
    other_process.add_judgements([_verdict(_unit(1, 0.001 * i), "a") for i in range(300)])
    query = _unit(1, 0)[None, :]
    assert len(index.near(query, 0.9, "m")[0]) == MAX_NEIGHBOURS and mine.read == 300
    for _ in range(5):
        index.near(query, 0.9, "m")
    assert mine.read == 300  # no new verdict: nothing read again

    other_process.add_judgements([_verdict(_unit(1, 0), "b", "bad")])
    near = index.near(query, 0.99, "m")[0]
    assert mine.read == 301 and {n.product_id for n in near} >= {"b"}
    assert next(n for n in near if n.product_id == "b").sign == -1.0
    assert index.near(_unit(0, 1)[None, :], 0.9, "m") == [[]]  # far from every judged query

    other_process.clear_judgements()
    assert index.near(query, 0.5, "m") == [[]]

    slow = JudgedIndex(mine, MemoryVectorStore, recheck_seconds=3600)
    assert slow.near(query, 0.5, "m") == [[]]
    other_process.add_judgements([_verdict(_unit(1, 0), "d")])
    assert slow.near(query, 0.5, "m") == [[]]  # another process: seen at the next recheck
    slow.changed()  # what this process's FeedbackService says after recording a verdict
    assert [n.product_id for n in slow.near(query, 0.5, "m")[0]] == ["d"]
    other_process.clear_judgements()
    other_process.add_judgements([_verdict(_unit(1, 0), "c", stamp="other-model")])
    assert index.near(query, 0.5, "m") == [[]] and len(index.near(query, 0.5, "other-model")[0])


def test_changes_match_the_rule_over_near_and_the_8bit_graph_matches_exact_vectors(tmp_path):
    """What re-ranking uses: the judged-query graph of the app (8-bit codes) gives a new query
    near the same judged images the same adjustments as exact vectors (to ~1e-3)."""
    store = SqlFeedbackStore(SqlRepository(f"sqlite:///{tmp_path / 'app.db'}").engine)
    rng = np.random.default_rng(0)
    images = np.abs(rng.normal(size=(6, 1280))).astype(np.float32)  # like pooled CNN features
    verdicts = []
    for n in range(150):  # several verdicts per judged image: the same vector each time
        vector = images[n % 6] / np.linalg.norm(images[n % 6])
        verdicts.append(_verdict(vector, f"p{n % 4}", "good" if n % 3 else "bad"))
    store.add_judgements(verdicts)
    exact = JudgedIndex(store, MemoryVectorStore)
    coded = JudgedIndex(store, lambda: FaissVectorStore(None, options=JUDGED_INDEX))
    query = images[:2].mean(axis=0) + rng.normal(0, 0.01, 1280)  # not a judged image itself
    query = (query / np.linalg.norm(query)).astype(np.float32)[None, :]

    expected = feedback_adjustments(exact.near(query, 0.8, "m")[0], 0.5)
    assert expected and exact.changes(query, 0.8, 0.5, "m") == [pytest.approx(expected)]
    [got] = coded.changes(query, 0.8, 0.5, "m")
    assert got.keys() == expected.keys()
    assert got == pytest.approx(expected, abs=5e-3)  # measured ~4e-4: 100 judged queries summed
    assert coded.changes(-query, 0.8, 0.5, "m") == [{}]

"""Judged queries through an in-memory vector index, kept fresh with one small query a search."""

from __future__ import annotations

import numpy as np

from app.domain.feedback import Judgement
from app.infrastructure.database.feedback_store import SqlFeedbackStore
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.judged_index import MAX_NEIGHBOURS, JudgedIndex


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

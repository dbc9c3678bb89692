"""The SQL feedback store: verdicts with their query embeddings, in the repository's database."""

from __future__ import annotations

import numpy as np
import pytest

from app.domain.feedback import Judgement
from app.infrastructure.database.feedback_store import SqlFeedbackStore
from app.infrastructure.database.sql_repository import SqlRepository


@pytest.fixture(params=["sqlite-file", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'app.db'}"


def test_add_list_filter_promote_clear(database_url):
    repo = SqlRepository(database_url)
    store = SqlFeedbackStore(repo.engine)
    vector = np.array([0.6, 0.8], dtype=np.float32)
    added = store.add_judgements(
        [
            Judgement("h1", vector, "p1", "good", "m1", image_id=3, query_ref="/q.jpg", note="n"),
            Judgement("h2", vector, "p2", "bad", "m2"),
        ]
    )
    assert [j.id for j in added] == [1, 2] and added[0].created_at is not None
    listed = store.list_judgements()
    assert [(j.product_id, j.verdict, j.image_id, j.note) for j in listed] == [
        ("p1", "good", 3, "n"),
        ("p2", "bad", None, None),
    ]
    assert np.array_equal(listed[0].query_vector, vector)
    assert [j.id for j in store.list_judgements(product_id="p2")] == [2]
    assert [j.id for j in store.list_judgements(model_stamp="m1")] == [1]
    store.mark_promoted([1])
    assert [j.promoted for j in store.list_judgements()] == [True, False]
    assert store.clear_judgements() == 2 and store.list_judgements() == []
    repo.close()


def test_pages_and_summary(database_url):
    repo = SqlRepository(database_url)
    store = SqlFeedbackStore(repo.engine)
    vector = np.array([0.6, 0.8], dtype=np.float32)
    store.add_judgements([Judgement(f"h{i}", vector, "p", "good", "m1") for i in range(5)])
    store.add_judgements([Judgement("x", vector, "p", "bad", "m2")])
    assert [j.id for j in store.list_judgements(after_id=2, limit=2)] == [3, 4]
    assert store.judgement_summary("m1") == (5, 5) and store.judgement_summary() == (6, 6)
    store.clear_judgements()
    assert store.judgement_summary() == (0, 0)

"""FeedbackStore port on SQLAlchemy Core, in the repository's database (table `feedback`).

Query embeddings are kept as float32 bytes beside each verdict, so re-ranking can find earlier
judged queries close to a new one without a second vector store.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, select, update

from app.domain.feedback import Judgement
from app.infrastructure.database.engine import chunked
from app.infrastructure.database.tables import feedback
from app.infrastructure.database.transactions import transaction


def _judgement(row: Any) -> Judgement:
    return Judgement(
        query_hash=row.query_hash,
        query_vector=np.frombuffer(row.query_vector, dtype=np.float32),
        product_id=row.product_id,
        verdict=row.verdict,
        model_stamp=row.model_stamp,
        image_id=None if row.image_id is None else int(row.image_id),
        query_ref=row.query_ref,
        note=row.note,
        id=int(row.id),
        created_at=row.created_at,
        promoted=bool(row.promoted),
    )


class SqlFeedbackStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine  # the repository's: its schema (migrations) is already current

    def add_judgements(self, judgements: list[Judgement]) -> list[Judgement]:
        now = datetime.now(UTC)
        stored = []
        with transaction(self._engine) as conn:
            for j in judgements:
                values = {
                    "query_hash": j.query_hash,
                    "query_vector": np.asarray(j.query_vector, dtype=np.float32).tobytes(),
                    "query_ref": j.query_ref,
                    "product_id": j.product_id,
                    "image_id": j.image_id,
                    "verdict": j.verdict,
                    "note": j.note,
                    "model_stamp": j.model_stamp,
                    "promoted": False,
                    "created_at": now,
                }
                new_id = conn.execute(feedback.insert().values(**values)).inserted_primary_key[0]
                stored.append(replace(j, id=int(new_id), created_at=now))
        return stored

    def list_judgements(
        self,
        product_id: str | None = None,
        model_stamp: str | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[Judgement]:
        query = select(feedback).where(feedback.c.id > after_id).order_by(feedback.c.id)
        if product_id is not None:
            query = query.where(feedback.c.product_id == product_id)
        if model_stamp is not None:
            query = query.where(feedback.c.model_stamp == model_stamp)
        if limit is not None:
            query = query.limit(limit)
        with transaction(self._engine) as conn:
            return [_judgement(row) for row in conn.execute(query)]

    def judgement_summary(self, model_stamp: str | None = None) -> tuple[int, int]:
        """(how many verdicts, the highest id): a cheap way to notice any change. Two
        statements, each answered from an index (together they would scan the table)."""
        where = [] if model_stamp is None else [feedback.c.model_stamp == model_stamp]
        with transaction(self._engine) as conn:
            count = conn.execute(select(func.count()).select_from(feedback).where(*where))
            top = conn.execute(select(func.max(feedback.c.id)).where(*where))
            return int(count.scalar_one()), int(top.scalar_one() or 0)

    def mark_promoted(self, ids: list[int]) -> None:
        with transaction(self._engine) as conn:
            for chunk in chunked(sorted(set(ids))):
                conn.execute(update(feedback).where(feedback.c.id.in_(chunk)).values(promoted=True))

    def clear_judgements(self) -> int:
        with transaction(self._engine) as conn:
            count = conn.execute(select(func.count()).select_from(feedback)).scalar_one()
            conn.execute(delete(feedback))
            return int(count)

"""Port: stored feedback (users' verdicts on search and classification results)."""

from __future__ import annotations

from typing import Protocol

from app.domain.feedback import Judgement


class FeedbackStore(Protocol):
    """Contract.

    - `add_judgements(js)` stores verdicts in ONE transaction and returns them with ids and times.
    - `list_judgements(product_id=None, model_stamp=None)` lists them in id order, optionally
      only one product's or only those whose query embedding was made by one model.
    - `mark_promoted(ids)` records that these verdicts were added to the gallery.
    - `clear_judgements()` deletes them all and returns how many there were.
    """

    def add_judgements(self, judgements: list[Judgement]) -> list[Judgement]: ...

    def list_judgements(
        self, product_id: str | None = None, model_stamp: str | None = None
    ) -> list[Judgement]: ...

    def mark_promoted(self, ids: list[int]) -> None: ...

    def clear_judgements(self) -> int: ...

"""Port: stored feedback (users' verdicts on search and classification results)."""

from __future__ import annotations

from typing import Protocol

from app.domain.feedback import Judgement


class FeedbackStore(Protocol):
    """Contract.

    - `add_judgements(js)` stores verdicts in ONE transaction and returns them with ids and times.
    - `list_judgements(product_id=None, model_stamp=None, after_id=0, limit=None)` lists them in
      id order, optionally only one product's or only those whose query embedding was made by
      one model, only ids above `after_id` (pages, or what is new), at most `limit` of them.
    - `judgement_summary(model_stamp=None)` is (count, highest id): any change shows in it.
    - `mark_promoted(ids)` records that these verdicts were added to the gallery.
    - `clear_judgements()` deletes them all and returns how many there were.
    """

    def add_judgements(self, judgements: list[Judgement]) -> list[Judgement]: ...

    def list_judgements(
        self,
        product_id: str | None = None,
        model_stamp: str | None = None,
        after_id: int = 0,
        limit: int | None = None,
    ) -> list[Judgement]: ...

    def judgement_summary(self, model_stamp: str | None = None) -> tuple[int, int]: ...

    def mark_promoted(self, ids: list[int]) -> None: ...

    def clear_judgements(self) -> int: ...

"""Use case: record users' verdicts on results, list them, count them, forget them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.errors import InvalidInput, NotFound
from app.domain.feedback import FeedbackStats, Judgement, feedback_stats, validate_verdict
from app.domain.gallery import normalise_name, validate_class_name
from app.domain.images import ImageInput
from app.interfaces.feedback import FeedbackStore
from app.interfaces.repository import Repository
from app.services.feedback_queries import JudgedQueries
from app.services.judged_index import JudgedIndex

MAX_NOTE = 1000


@dataclass(frozen=True)
class Target:
    """What was judged: a product (class), and for a search hit the gallery image too.
    Give at least one; the product of an image id is looked up."""

    product_id: str | None = None
    image_id: int | None = None


@dataclass(eq=False)
class FeedbackService:
    feedback: FeedbackStore
    queries: JudgedQueries
    repository: Repository
    judged: JudgedIndex | None = None  # told about changes, so this process's searches see them

    def record(
        self,
        query: ImageInput | int,
        targets: Sequence[Target],
        verdict: str,
        note: str | None = None,
    ) -> list[Judgement]:
        """One verdict per target for the query (an image, or a gallery image's id)."""
        validate_verdict(verdict)
        if not targets:
            raise InvalidInput("nothing to judge: name a product or an image id")
        if note is not None and len(note) > MAX_NOTE:
            raise InvalidInput(f"the note is longer than {MAX_NOTE} characters")
        resolved = self._resolve(targets)
        judged = self.queries.resolve(query)
        stored = self.feedback.add_judgements(
            [
                Judgement(
                    query_hash=judged.content_hash,
                    query_vector=judged.vector,
                    product_id=product,
                    verdict=verdict,
                    model_stamp=self.queries.stamp,
                    image_id=image_id,
                    query_ref=judged.ref,
                    note=note,
                )
                for product, image_id in resolved
            ]
        )
        self._changed()
        return stored

    def list(
        self, product_id: str | None = None, after_id: int = 0, limit: int | None = None
    ) -> list[Judgement]:
        """Verdicts in id order; a page is `limit` of them after id `after_id`."""
        product = normalise_name(product_id) if product_id is not None else None
        return self.feedback.list_judgements(product, after_id=after_id, limit=limit)

    def stats(self, top: int = 10) -> FeedbackStats:
        return feedback_stats(self.feedback.list_judgements(), top)

    def clear(self) -> int:
        cleared = self.feedback.clear_judgements()
        self._changed()
        return cleared

    def _changed(self) -> None:
        if self.judged is not None:
            self.judged.changed()

    def _resolve(self, targets: Sequence[Target]) -> list[tuple[str, int | None]]:
        ids = [t.image_id for t in targets if t.image_id is not None]
        records = self.repository.get_images(ids) if ids else {}
        resolved = []
        for target in targets:
            product = target.product_id
            if product:  # the same rule as class names: it may become one (`promote`)
                product = validate_class_name(product, "product id")
            if target.image_id is None:
                if not product:
                    raise InvalidInput("nothing to judge: name a product or an image id")
                resolved.append((product, None))
                continue
            record = records.get(target.image_id)
            if record is None:
                raise NotFound(f"no gallery image with id {target.image_id}")
            if product and product != record.product_id:
                raise InvalidInput(
                    f"image {target.image_id} belongs to {record.product_id!r}, not {product!r}"
                )
            resolved.append((record.product_id, target.image_id))
        return resolved

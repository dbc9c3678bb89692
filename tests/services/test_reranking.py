"""Feedback re-ranking moves candidates by their product; the products of images already seen
are kept in memory, so a judged query's later searches do not read them again."""

from __future__ import annotations

from types import SimpleNamespace

from app.domain.feedback import RerankParams
from app.domain.models import ImageRecord
from app.services.reranking import FeedbackReranker


def test_products_are_read_once_per_image_and_new_images_when_they_appear(container):
    repo = container.repository()
    shoe, bag = repo.upsert_images(
        [ImageRecord("shoe/0.jpg", "shoe", "a", 1), ImageRecord("bag/0.jpg", "bag", "b", 1)]
    )
    asked: list[list[int]] = []

    def get_images(ids):
        asked.append(sorted(ids))
        return repo.get_images(asked[-1])

    reranker = FeedbackReranker(None, SimpleNamespace(get_images=get_images), RerankParams())
    row = [(shoe.id, 0.9), (bag.id, 0.8)]
    lift_bags = [{"bag": 0.5}]
    assert reranker.rerank([row], lift_bags) == [[(bag.id, 1.3), (shoe.id, 0.9)]]
    assert reranker.rerank([row], lift_bags) == [[(bag.id, 1.3), (shoe.id, 0.9)]]
    assert asked == [sorted([shoe.id, bag.id])]  # the second search read nothing
    (hat,) = repo.upsert_images([ImageRecord("hat/0.jpg", "hat", "c", 1)])
    rows = reranker.rerank([[*row, (hat.id, 0.85)]], [{"hat": -0.5, "bag": 0.5}])
    assert rows == [[(bag.id, 1.3), (shoe.id, 0.9), (hat.id, 0.35)]]
    assert asked[1:] == [[hat.id]]  # only the new image
    assert reranker.rerank([row], [{}]) == [row] and len(asked) == 2  # nothing judged near

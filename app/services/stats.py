"""Use case: what is in the catalogue and the index."""

from __future__ import annotations

from datetime import datetime

from app.domain.models import CatalogueStats
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import Embedder
from app.services.rebuild import LAST_REBUILD_KEY


class StatsService:
    def __init__(
        self,
        repository: Repository,
        store: VectorStore,
        embedder: Embedder,
        guard: GalleryGuard | None = None,
    ) -> None:
        self._repo = repository
        self._store = store
        self._embedder = embedder
        self._guard = guard or GalleryGuard()  # follows saves of other processes

    def get(self) -> CatalogueStats:
        self._guard.follow()
        per_product = self._repo.product_counts()
        last = self._repo.get_meta(LAST_REBUILD_KEY)
        images = sum(per_product.values())
        index = self._store.info()
        indexed = self._repo.count_images(index.model_stamp) if index.model_stamp else 0
        return CatalogueStats(
            images=images,
            products=len(per_product),
            images_per_product=per_product,
            index=index,
            model_stamp=self._embedder.stamp,
            last_rebuild=datetime.fromisoformat(last) if last else None,
            indexed=indexed,
            pending=images - indexed,
            text_search=self._embedder.model.supports_text,
        )

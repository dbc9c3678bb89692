"""Use case: what is in the catalogue and the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.domain.models import CatalogueStats
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import Embedder
from app.services.rebuild import LAST_REBUILD_KEY


@dataclass(eq=False)
class StatsService:
    repository: Repository
    store: VectorStore
    embedder: Embedder
    guard: GalleryGuard = field(default_factory=GalleryGuard)  # follows saves of other processes

    def get(self) -> CatalogueStats:
        self.guard.follow()
        per_product = self.repository.product_counts()
        last = self.repository.get_meta(LAST_REBUILD_KEY)
        images = sum(per_product.values())
        index = self.store.info()
        indexed = self.repository.count_images(index.model_stamp) if index.model_stamp else 0
        return CatalogueStats(
            images=images,
            products=len(per_product),
            images_per_product=per_product,
            index=index,
            model_stamp=self.embedder.stamp,
            last_rebuild=datetime.fromisoformat(last) if last else None,
            indexed=indexed,
            pending=images - indexed,
            text_search=self.embedder.model.supports_text,
        )

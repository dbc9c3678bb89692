"""The image search engine's Python API, over the same container and services.

from app.engine import ImageSearchEngine
engine = ImageSearchEngine()
engine.build_index()
engine.search("photo.jpg", top_k=5)   # [{"product_id": ..., "path": ..., "similarity": ...}]
engine.classify("photo.jpg")           # {"category": {...}, "attributes": [...], "retrieval": ...}
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.config import Settings
from app.container import Container, build_container
from app.domain.models import QueryResult, RebuildReport, first_failure


class ImageSearchEngine:
    def __init__(self, settings: Settings | None = None, container: Container | None = None):
        self.container = container or build_container(settings)

    def build_index(self, force_rebuild: bool = False) -> RebuildReport:
        """Index the products folder (incremental unless `force_rebuild`)."""
        return self.container.rebuild_service().run(full=force_rebuild)

    def load_index(self) -> int:
        """Load the saved index from disk; returns the number of vectors."""
        store = self.container.vector_store()
        store.load()
        return len(store)

    def search(self, image_path: str | Path, top_k: int = 5) -> list[dict[str, Any]]:
        outcome = self.container.search_service().search_images([Path(image_path)], top_k)
        if outcome.skipped:
            raise first_failure(outcome.skipped)
        return _hit_dicts(outcome.results[0])

    def search_text(self, text: str, top_k: int = 5) -> list[dict[str, Any]]:
        result = self.container.search_service().search_text(text, top_k)
        return _hit_dicts(result)

    def classify(self, image_path: str | Path, use_trained: bool = False) -> dict[str, Any]:
        """Category, attributes and catalogue class of one photo, as a plain dict."""
        service = self.container.classify_service()
        outcome = service.classify_images([Path(image_path)], use_trained)
        if outcome.skipped:
            raise first_failure(outcome.skipped)
        return asdict(outcome.results[0])

    def get_statistics(self) -> dict[str, Any]:
        stats = self.container.stats_service().get()
        data = asdict(stats)
        data["last_rebuild"] = stats.last_rebuild.isoformat() if stats.last_rebuild else None
        return data


def _hit_dicts(result: QueryResult) -> list[dict[str, Any]]:
    return [
        {"product_id": h.product_id, "path": h.path, "similarity": h.score, "rank": h.rank}
        for h in result.hits
    ]

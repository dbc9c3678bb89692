"""The image search engine's Python API, over the same container and services.

from app.engine import ImageSearchEngine
engine = ImageSearchEngine()
engine.build_index()
engine.search("photo.jpg", top_k=5)   # [{"product_id": ..., "path": ..., "similarity": ...}]
engine.classify("photo.jpg")           # {"category": {...}, "attributes": [...], "retrieval": ...}

Focused search and catalogue hygiene:
engine.search("photo.jpg", options=SearchOptions(Focus(products=("shoe",)), cutoff=Cutoff(0.5)))
engine.search_answer("photo.jpg", options=...)  # {"query", "hits", "cut": hits the cut-off removed}
engine.find_duplicates(threshold=0.95)          # [{"images", "similarity", "conflict", "pairs"}]
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from app.config import Settings
from app.container import Container, build_container
from app.domain.duplicates import DedupScope
from app.domain.images import ImageInput
from app.domain.models import QueryResult, RebuildReport, first_failure
from app.domain.search_filters import SearchOptions
from app.services.dedup import DedupOptions


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

    def search(
        self, image_path: str | Path, top_k: int = 5, options: SearchOptions | None = None
    ) -> list[dict[str, Any]]:
        """Hits like the photo; `options` filters by product / folder, keeps one hit per
        product and cuts weak hits (see `search_answer` for how many were cut)."""
        return self.search_answer(image_path, top_k, options)["hits"]

    def search_answer(
        self, image_path: str | Path, top_k: int = 5, options: SearchOptions | None = None
    ) -> dict[str, Any]:
        """`search`, with the query and the number of hits the cut-off removed (`cut`)."""
        query = ImageInput.file(image_path)
        outcome = self.container.search_service().search_images([query], top_k, options)
        if outcome.skipped:
            raise first_failure(outcome.skipped)
        result = outcome.results[0]
        return {"query": result.query, "hits": _hit_dicts(result), "cut": result.cut}

    def find_duplicates(
        self,
        threshold: float | None = None,
        conflicts_only: bool = False,
        scope: DedupScope = DedupScope.ALL,
    ) -> list[dict[str, Any]]:
        """Near-duplicate groups (cosine >= threshold, default DEDUP_THRESHOLD), conflicts first."""
        if threshold is None:
            threshold = self.container.settings().dedup_threshold
        options = DedupOptions(threshold, DedupScope(scope), conflicts_only)
        return [g.as_dict() for g in self.container.dedup_service().find(options).groups]

    def search_text(self, text: str, top_k: int = 5) -> list[dict[str, Any]]:
        result = self.container.search_service().search_text(text, top_k)
        return _hit_dicts(result)

    def classify(self, image_path: str | Path, use_trained: bool = False) -> dict[str, Any]:
        """Category, attributes and catalogue class of one photo, as a plain dict."""
        service = self.container.classify_service()
        outcome = service.classify_images([ImageInput.file(image_path)], use_trained)
        if outcome.skipped:
            raise first_failure(outcome.skipped)
        return asdict(outcome.results[0])

    def get_statistics(self) -> dict[str, Any]:
        stats = self.container.stats_service().get()
        data = asdict(stats)
        data["last_rebuild"] = stats.last_rebuild.isoformat() if stats.last_rebuild else None
        return data


def _hit_dicts(result: QueryResult) -> list[dict[str, Any]]:
    return [{**h.as_dict(), "similarity": h.score} for h in result.hits]  # documented name

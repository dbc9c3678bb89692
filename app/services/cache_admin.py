"""Use case: see and clear what is held in memory (query embeddings, loaded model)."""

from __future__ import annotations

from app.domain.models import CacheEntry
from app.interfaces.cache import Cache
from app.interfaces.embedding import EmbeddingModel


class CacheService:
    def __init__(self, cache: Cache, model: EmbeddingModel) -> None:
        self._cache = cache
        self._model = model

    def list(self) -> list[CacheEntry]:
        entries = []
        if self._model.is_loaded:
            entries.append(CacheEntry(self._model.model_id, "model", "loaded"))
        for key in self._cache.keys():  # noqa: SIM118 - Cache port, not a dict
            kind, _, detail = key.partition(":")
            entries.append(CacheEntry(key, kind, detail))
        return entries

    def clear(self) -> int:
        """Drop cached embeddings and unload the model (it reloads on next use)."""
        dropped = self._cache.clear()
        if self._model.is_loaded:
            self._model.unload()
            dropped += 1
        return dropped

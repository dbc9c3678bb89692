"""Use case: see and clear caches: query embeddings and the model in memory, and the embeddings
kept on disk (text prompts, training photos)."""

from __future__ import annotations

from app.domain.models import CacheEntry
from app.interfaces.cache import Cache
from app.interfaces.embedding import EmbeddingModel


class CacheService:
    def __init__(self, cache: Cache, model: EmbeddingModel, disk: Cache | None = None) -> None:
        self._cache = cache
        self._model = model
        self._disk = disk

    def list(self) -> list[CacheEntry]:
        entries = []
        if self._model.is_loaded:
            entries.append(CacheEntry(self._model.model_id, "model", "loaded"))
        for key in self._cache.keys():  # noqa: SIM118 - Cache port, not a dict
            kind, _, detail = key.partition(":")
            entries.append(CacheEntry(key, kind, detail))
        if self._disk is not None and (stored := len(self._disk)):
            key = f"{stored} embeddings (text prompts, training photos)"
            entries.append(CacheEntry(key, "disk"))
        return entries

    def clear(self) -> int:
        """Drop cached embeddings (memory and disk) and unload the model (reloads on next use)."""
        dropped = self._cache.clear()
        if self._disk is not None:
            dropped += self._disk.clear()
        if self._model.is_loaded:
            self._model.unload()
            dropped += 1
        return dropped

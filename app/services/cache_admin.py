"""Use case: see and clear caches: query embeddings and the model in memory, and the embeddings
kept on disk (text prompts, training photos)."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.models import CacheEntry
from app.interfaces.cache import Cache
from app.interfaces.embedding import EmbeddingModel


@dataclass(eq=False)
class CacheService:
    cache: Cache
    model: EmbeddingModel
    disk: Cache | None = None

    def list(self) -> list[CacheEntry]:
        entries = []
        if self.model.is_loaded:
            entries.append(CacheEntry(self.model.model_id, "model", "loaded"))
        for key in self.cache.keys():  # noqa: SIM118 - Cache port, not a dict
            kind, _, detail = key.partition(":")
            entries.append(CacheEntry(key, kind, detail))
        if self.disk is not None and (stored := len(self.disk)):
            key = f"{stored} embeddings (text prompts, training photos)"
            entries.append(CacheEntry(key, "disk"))
        return entries

    def clear(self) -> int:
        """Drop cached embeddings (memory and disk) and unload the model (reloads on next use)."""
        dropped = self.cache.clear()
        if self.disk is not None:
            dropped += self.disk.clear()
        if self.model.is_loaded:
            self.model.unload()
            dropped += 1
        return dropped

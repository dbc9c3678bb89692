"""Use case: is each dependency usable right now? The database, the vector index, the model.

Each check is cheap (one small query, the index's size, whether the weights are loaded) and is
made again on every call, so a dependency that goes away turns the answer unhealthy and one that
comes back turns it healthy again. Messages never carry server addresses (see the log for them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from app.domain.errors import ImgRecogError
from app.interfaces.embedding import EmbeddingModel
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore

logger = logging.getLogger(__name__)
T = TypeVar("T")

OK, LOADING, UNAVAILABLE = "ok", "loading", "unavailable"
HEALTH_PROBE_KEY = "schema_probe"  # any meta key: reading it proves the database answers


@dataclass(frozen=True)
class DependencyHealth:
    status: str  # ok | loading | unavailable
    detail: str = ""


@dataclass(frozen=True)
class Health:
    checks: dict[str, DependencyHealth]
    index_size: int | None = None
    index_model: str | None = None
    model_loaded: bool = False

    @property
    def healthy(self) -> bool:
        return all(c.status != UNAVAILABLE for c in self.checks.values())


@dataclass(eq=False)
class HealthService:
    repository: Callable[[], Repository]
    store: Callable[[], VectorStore]
    model: Callable[[], EmbeddingModel]

    def check(self, model_error: str | None = None) -> Health:
        """Probe each dependency; `model_error` is why loading the model failed, if it did."""
        database = _probe("database", lambda: self.repository().get_meta(HEALTH_PROBE_KEY))
        index = _probe("index", lambda: _size_and_stamp(self.store()))
        model = _probe("model", lambda: self.model().is_loaded)
        checks = {"database": database[0], "index": index[0], "model": model[0]}
        if model[1] is False:  # built, weights not loaded (yet, or loading them failed)
            why = model_error or ""
            checks["model"] = DependencyHealth(UNAVAILABLE if model_error else LOADING, why)
        size, stamp = index[1] or (None, None)
        return Health(checks, size, stamp, model_loaded=bool(model[1]))


def _size_and_stamp(store: VectorStore) -> tuple[int, str | None]:
    return len(store), store.model_stamp


def _probe(name: str, use: Callable[[], T]) -> tuple[DependencyHealth, T | None]:
    """OK and what `use()` returned, or UNAVAILABLE saying why (also logged) and None."""
    try:
        return DependencyHealth(OK), use()
    except (ImgRecogError, OSError) as exc:
        logger.warning("health: %s unavailable: %s", name, exc)
        return DependencyHealth(UNAVAILABLE, str(exc)), None

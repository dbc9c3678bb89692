"""Storage sub-container: settings -> the vector store (VECTOR_STORE), the repository
(DATABASE_URL), the lock over both (the gallery guard) and the caches; the stores' options and
locations, and the targets of `migrate`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from app.config import Settings, with_overrides
from app.domain.errors import ConfigError, IndexNotReady, ModelMismatch
from app.infrastructure.cache.file_cache import FileCache
from app.infrastructure.cache.memory_cache import MemoryCache
from app.infrastructure.database.advisory_lock import AdvisoryLock, is_postgresql
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.rebuild_lock import WriterLock
from app.infrastructure.vector_store.faiss_store import FaissIndexOptions, FaissVectorStore
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.infrastructure.vector_store.qdrant_store import QdrantOptions, QdrantVectorStore
from app.services.gallery_guard import GalleryGuard
from app.services.migrate import MigrationTarget, TargetOpener

logger = logging.getLogger("app")

# settings that choose where vectors live (a migration target names at least one)
STORE_SETTINGS = ("vector_store", "faiss_index", "qdrant_url", "qdrant_path")


def faiss_directory(s: Settings) -> Path:
    """INDEX_DIR/faiss for the flat index (as before IVF/HNSW existed), faiss-ivf, faiss-hnsw."""
    return s.index_dir / ("faiss" if s.faiss_index == "flat" else f"faiss-{s.faiss_index}")


def memory_directory(s: Settings) -> Path:
    return s.index_dir / "memory"


def faiss_options(s: Settings) -> FaissIndexOptions:
    return FaissIndexOptions(
        kind=s.faiss_index,
        nlist=s.faiss_nlist,
        nprobe=s.faiss_nprobe,
        hnsw_m=s.hnsw_m,
        ef_construction=s.hnsw_ef_construction,
        ef_search=s.hnsw_ef_search,
    )


def qdrant_options(s: Settings) -> QdrantOptions:
    """A server when QDRANT_URL is set, else the local mode in QDRANT_PATH (INDEX_DIR/qdrant)."""
    return QdrantOptions(
        url=s.qdrant_url,
        api_key=s.qdrant_api_key.get_secret_value() if s.qdrant_api_key else None,
        path=None if s.qdrant_url else (s.qdrant_path or s.index_dir / "qdrant"),
        collection_prefix=s.qdrant_collection_prefix,
        on_disk=s.qdrant_on_disk,
        hnsw_m=s.hnsw_m,
        ef_construction=s.hnsw_ef_construction,
        ef_search=s.hnsw_ef_search,
        timeout=s.qdrant_timeout,
    )


def store_location(s: Settings) -> tuple[str, ...]:
    """Where the configured vector store keeps its data (two stores must not share it)."""
    if s.vector_store == "qdrant":
        options = qdrant_options(s)
        where = options.url or str(Path(str(options.path)).expanduser().resolve())
        return ("qdrant", where, options.collection_prefix)
    folder = faiss_directory(s) if s.vector_store == "faiss" else memory_directory(s)
    return (s.vector_store, str(folder.expanduser().resolve()))


def writer_lock_of(s: Settings) -> Callable[[], AbstractContextManager[object]]:
    """The writer lock between processes: INDEX_DIR/writer.lock (one machine), then, with a
    PostgreSQL database, its advisory lock keyed by the store location (several machines)."""
    local = WriterLock(s.index_dir)
    if not is_postgresql(s.database_url):
        return local.held
    shared = AdvisoryLock(s.database_url, "|".join(store_location(s)))

    @contextmanager
    def held() -> Iterator[None]:
        with local.held(), shared.held():  # always in this order: no deadlock
            yield

    return held


def migration_targets(settings: Settings, build: Callable[[Settings], Any]) -> TargetOpener:
    """Opens the back ends that settings changes select (through `build`, the container
    factory), refusing the source's own storage."""

    def open_target(changes: Mapping[str, str]) -> MigrationTarget:
        target = with_overrides(settings, **changes)
        moves_vectors = any(name in changes for name in STORE_SETTINGS)
        moves_rows = "database_url" in changes
        if moves_vectors and store_location(target) == store_location(settings):
            raise ConfigError(
                f"the target vector store is the configured one ({store_location(settings)[1]}): "
                "name another store, FAISS index, Qdrant URL or path"
            )
        if moves_rows and target.database_url.strip() == settings.database_url.strip():
            raise ConfigError("the target database is the configured DATABASE_URL")
        other = build(target)
        return MigrationTarget(
            store=other.vector_store() if moves_vectors else None,
            repository=other.repository() if moves_rows else None,
        )

    return open_target


def loaded(store):
    """A vector store with its last saved state loaded (if any).

    A damaged index, or one saved with another metric or store kind, is reported in one line and
    left empty, so that `rebuild` can replace it (queries then say the index is empty).
    """
    try:
        store.load()
    except (IndexNotReady, ModelMismatch) as exc:
        logger.warning("warning: %s", exc)
    return store


def _embedding_cache_dir(s: Settings) -> Path:
    return s.index_dir / "embedding-cache"


def _loaded_store(factory: type, **kwargs: Any) -> providers.ThreadSafeSingleton:
    """One store per process, its last saved state loaded."""
    return providers.ThreadSafeSingleton(loaded, providers.Factory(factory, **kwargs))


class Storage(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    vector_store = providers.Selector(  # VECTOR_STORE: faiss, memory or qdrant
        settings.provided.vector_store,
        faiss=_loaded_store(
            FaissVectorStore,
            directory=providers.Callable(faiss_directory, settings),
            metric=settings.provided.metric,
            options=providers.Callable(faiss_options, settings),
        ),
        memory=_loaded_store(
            MemoryVectorStore,
            directory=providers.Callable(memory_directory, settings),
            metric=settings.provided.metric,
        ),
        qdrant=_loaded_store(
            QdrantVectorStore,
            options=providers.Callable(qdrant_options, settings),
            metric=settings.provided.metric,
        ),
    )
    repository = providers.ThreadSafeSingleton(  # SQLite or a pooled PostgreSQL engine
        SqlRepository,
        settings.provided.database_url,
        pool_size=settings.provided.database_pool_size,
        max_overflow=settings.provided.database_max_overflow,
    )
    # one lock over the gallery: rebuild and the class commands change it, predictions read it;
    # between processes, the writer lock of the index folder (and, on PostgreSQL, the database's
    # advisory lock of the index location) serialises every change
    writer_lock = providers.ThreadSafeSingleton(writer_lock_of, settings)
    gallery_guard = providers.ThreadSafeSingleton(
        GalleryGuard, process_lock=writer_lock, store=vector_store
    )
    cache = providers.ThreadSafeSingleton(MemoryCache, settings.provided.cache_size)
    embedding_cache = providers.ThreadSafeSingleton(
        FileCache,
        directory=providers.Callable(_embedding_cache_dir, settings),
        max_entries=settings.provided.embedding_cache_size,
    )

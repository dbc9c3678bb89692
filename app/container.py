"""The composition root: the only place that reads settings and picks adapters.

Adapters are imported here but load their heavy libraries (torch, faiss, transformers, rembg)
lazily, so building the container is instant and the REPL prompt appears before any model loads.
Tests swap parts with `container.<provider>.override(...)`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from dependency_injector import containers, providers

from app.config import Settings, get_settings, with_overrides
from app.domain.errors import ConfigError, IndexNotReady, ModelMismatch
from app.infrastructure.cache.memory_cache import MemoryCache
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.embedding.resolver import create_embedding_model
from app.infrastructure.embedding.runtime import resolve_device
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.infrastructure.preprocessing.preprocessed_writer import PreprocessedWriter
from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor
from app.infrastructure.vector_store.faiss_store import FaissIndexOptions, FaissVectorStore
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.infrastructure.vector_store.qdrant_store import QdrantOptions, QdrantVectorStore
from app.services.cache_admin import CacheService
from app.services.migrate import MigrateService, MigrationTarget, TargetOpener
from app.services.pipeline import Embedder
from app.services.progress import no_progress
from app.services.rebuild import RebuildOptions, RebuildService
from app.services.search import SearchService
from app.services.stats import StatsService


def _loaded(store):
    """A vector store with its last saved state loaded (if any).

    A damaged index, or one saved with another metric or store kind, is reported in one line and
    left empty, so that `rebuild` can replace it (queries then say the index is empty).
    """
    try:
        store.load()
    except (IndexNotReady, ModelMismatch) as exc:
        logger.warning("warning: %s", exc)
    return store


logger = logging.getLogger("app")


def _preprocess_options(s: Settings) -> PreprocessOptions:
    return PreprocessOptions(
        size=s.preprocess_size,
        padding=s.preprocess_padding,
        bg_rgb=s.bg_rgb,
        max_pixels=s.max_image_pixels,
        max_bytes=s.max_image_bytes,
    )


def _preprocessor_key(s: Settings) -> str:
    return "rembg" if s.use_bg_removal else "passthrough"


def _writer(s: Settings) -> PreprocessedWriter | None:
    return PreprocessedWriter(s.preprocessed_dir) if s.save_preprocessed else None


def faiss_directory(s: Settings) -> Path:
    """INDEX_DIR/faiss for the flat index (as before IVF/HNSW existed), faiss-ivf, faiss-hnsw."""
    return s.index_dir / ("faiss" if s.faiss_index == "flat" else f"faiss-{s.faiss_index}")


def memory_directory(s: Settings) -> Path:
    return s.index_dir / "memory"


def _faiss_options(s: Settings) -> FaissIndexOptions:
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


STORE_SETTINGS = ("vector_store", "faiss_index", "qdrant_url", "qdrant_path")


def store_location(s: Settings) -> tuple[str, ...]:
    """Where the configured vector store keeps its data (two stores must not share it)."""
    if s.vector_store == "qdrant":
        options = qdrant_options(s)
        where = options.url or str(Path(str(options.path)).expanduser().resolve())
        return ("qdrant", where, options.collection_prefix)
    folder = faiss_directory(s) if s.vector_store == "faiss" else memory_directory(s)
    return (s.vector_store, str(folder.expanduser().resolve()))


def migration_targets(settings: Settings) -> TargetOpener:
    """Opens the back ends that settings changes select, refusing the source's own storage."""

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
        other = build_container(target)
        return MigrationTarget(
            store=other.vector_store() if moves_vectors else None,
            repository=other.repository() if moves_rows else None,
        )

    return open_target


class Container(containers.DeclarativeContainer):
    settings = providers.Singleton(get_settings)
    progress = providers.Object(no_progress)

    device = providers.Singleton(resolve_device, settings.provided.device)
    embedding_model = providers.Singleton(
        create_embedding_model,
        name=settings.provided.embedding_model,
        device=device,
        num_threads=settings.provided.num_threads,
        state_dir=settings.provided.index_dir,
    )

    preprocess_options = providers.Singleton(_preprocess_options, settings)
    preprocessor = providers.Selector(
        providers.Callable(_preprocessor_key, settings),
        passthrough=providers.Singleton(PadResizePreprocessor, preprocess_options),
        rembg=providers.Singleton(
            RembgPreprocessor,
            preprocess_options,
            model_name=settings.provided.rembg_model,
            model_path=settings.provided.rembg_model_path,
            num_threads=settings.provided.num_threads,
        ),
    )

    vector_store = providers.Selector(
        settings.provided.vector_store,
        faiss=providers.Singleton(
            _loaded,
            providers.Factory(
                FaissVectorStore,
                directory=providers.Callable(faiss_directory, settings),
                metric=settings.provided.metric,
                options=providers.Callable(_faiss_options, settings),
            ),
        ),
        memory=providers.Singleton(
            _loaded,
            providers.Factory(
                MemoryVectorStore,
                directory=providers.Callable(memory_directory, settings),
                metric=settings.provided.metric,
            ),
        ),
        qdrant=providers.Singleton(
            _loaded,
            providers.Factory(
                QdrantVectorStore,
                options=providers.Callable(qdrant_options, settings),
                metric=settings.provided.metric,
            ),
        ),
    )
    repository = providers.Singleton(
        SqlRepository,
        settings.provided.database_url,
        pool_size=settings.provided.database_pool_size,
        max_overflow=settings.provided.database_max_overflow,
    )
    cache = providers.Singleton(MemoryCache, settings.provided.cache_size)

    embedder = providers.Singleton(
        Embedder,
        preprocessor=preprocessor,
        model=embedding_model,
        batch_size=settings.provided.batch_size,
        workers=settings.provided.decode_workers,
        on_prepared=providers.Callable(_writer, settings),
    )

    rebuild_service = providers.Factory(
        RebuildService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        options=providers.Factory(RebuildOptions, products_dir=settings.provided.products_dir),
        progress=progress,
    )
    search_service = providers.Factory(
        SearchService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        cache=cache,
        default_k=settings.provided.top_k,
    )
    stats_service = providers.Factory(
        StatsService, repository=repository, store=vector_store, embedder=embedder
    )
    cache_service = providers.Factory(CacheService, cache=cache, model=embedding_model)
    migrate_service = providers.Factory(
        MigrateService,
        repository=repository,
        store=vector_store,
        open_target=providers.Callable(migration_targets, settings),
        progress=progress,
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container over the given settings (default: `.env` + environment, loaded once)."""
    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    return container

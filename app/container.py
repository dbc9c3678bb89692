"""The composition root: the only place that reads settings and picks adapters.

The providers live in sub-containers (app/wiring/: storage, models, feedback, classification,
learning), wired together here; this class re-exports them under flat names, so front doors and
tests say `container.search_service()` or `container.vector_store.override(...)`.
Adapters are imported when the container is defined but load their heavy libraries (torch, faiss,
transformers, rembg) lazily, so building it is instant and the REPL prompt appears before any
model loads. Models, stores, engines and repositories are ThreadSafeSingletons (the API builds
them from many threads at once); use cases are Factories.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from app.config import Settings, get_settings
from app.infrastructure.examples.folder_store import FolderExampleStore
from app.infrastructure.preprocessing.thumbnails import JpegThumbnailer
from app.infrastructure.rebuild_lock import RebuildLock
from app.services.browse import BrowseService
from app.services.cache_admin import CacheService
from app.services.dedup import DedupService
from app.services.gallery import GalleryService
from app.services.health import HealthService
from app.services.migrate import MigrateService
from app.services.progress import no_progress
from app.services.rebuild import RebuildOptions, RebuildService
from app.services.search import SearchService
from app.services.segment import SegmentService
from app.services.stats import StatsService
from app.wiring.classification import Classification
from app.wiring.feedback import Feedback
from app.wiring.learning import Learning
from app.wiring.models import Models
from app.wiring.storage import Storage, migration_targets


class Container(containers.DeclarativeContainer):
    settings = providers.ThreadSafeSingleton(get_settings)
    progress = providers.Object(no_progress)
    embedding_observer = providers.Object(None)  # the API times embedding batches with it

    storage = providers.Container(Storage, settings=settings)
    vector_store = storage.vector_store
    repository = storage.repository
    cache = storage.cache
    embedding_cache = storage.embedding_cache
    gallery_guard = storage.gallery_guard

    models = providers.Container(
        Models,
        settings=settings,
        embedding_observer=embedding_observer,
        cache=cache,
        disk_cache=embedding_cache,
    )
    torch_embedding_model = models.torch_embedding_model
    embedding_model = models.embedding_model
    preprocess_options = models.preprocess_options
    rembg_preprocessor = models.rembg_preprocessor
    preprocessor = models.preprocessor
    detectors = models.detectors
    embedder = models.embedder
    query_embeddings = models.query_embeddings
    image_embeddings = models.image_embeddings

    gallery_service = providers.Factory(
        GalleryService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        guard=gallery_guard,
        files=providers.Factory(
            FolderExampleStore,
            root=settings.provided.examples_dir,
            max_bytes=settings.provided.max_image_bytes,
        ),
    )
    feedback = providers.Container(
        Feedback, settings=settings, storage=storage, models=models, gallery_service=gallery_service
    )
    feedback_store = feedback.store
    judged_index = feedback.judged_index
    queries = feedback.queries
    feedback_service = feedback.service
    feedback_curation = feedback.curation

    classification = providers.Container(
        Classification, settings=settings, storage=storage, models=models, progress=progress
    )
    labels = classification.labels
    attribute_heads = classification.attribute_heads
    zero_shot = classification.zero_shot
    attribute_classifier = classification.attribute_classifier
    train_service = classification.train_service
    retrieval_classifier = classification.retrieval_classifier
    retrieval_classifier_factory = classification.retrieval_classifier_factory
    classify_service = classification.classify_service
    calibration_service = classification.calibration_service

    learning = providers.Container(
        Learning,
        settings=settings,
        models=models,
        retrieval_classifier_factory=retrieval_classifier_factory,
        progress=progress,
    )
    charts = learning.charts
    leak_finder = learning.leak_finder
    split_service = learning.split_service
    evaluation_service = learning.evaluation_service
    metric_learner = learning.metric_learner
    finetune_service = learning.finetune_service

    rebuild_service = providers.Factory(
        RebuildService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        options=providers.Factory(
            RebuildOptions,
            products_dir=settings.provided.products_dir,
            examples_dir=settings.provided.examples_dir,
            checkpoint_seconds=settings.provided.rebuild_checkpoint_seconds,
        ),
        progress=progress,
        guard=gallery_guard,
        lock=providers.Factory(RebuildLock, settings.provided.index_dir).provided.held,
    )
    search_service = providers.Factory(
        SearchService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        embeddings=query_embeddings,
        default_k=settings.provided.top_k,
        reranker=feedback.reranker,
        guard=gallery_guard,
        rocchio=feedback.refinement_defaults,
    )
    dedup_service = providers.Factory(
        DedupService, repository=repository, store=vector_store, progress=progress
    )
    stats_service = providers.Factory(
        StatsService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        guard=gallery_guard,
    )
    health_service = providers.Factory(
        HealthService,
        repository=repository.provider,
        store=vector_store.provider,
        model=embedding_model.provider,
    )
    browse_service = providers.Factory(  # the web page's image lists and thumbnails, by id
        BrowseService,
        repository=repository,
        roots=providers.List(settings.provided.products_dir, settings.provided.examples_dir),
        thumbnailer=providers.ThreadSafeSingleton(JpegThumbnailer, preprocess_options),
    )
    cache_service = providers.Factory(
        CacheService, cache=cache, model=embedding_model, disk=embedding_cache
    )
    segment_service = providers.Factory(
        SegmentService, repository=repository, gallery=gallery_service, detectors=detectors
    )
    migrate_service = providers.Factory(
        MigrateService,
        repository=repository,
        store=vector_store,
        open_target=providers.Callable(lambda s: migration_targets(s, build_container), settings),
        progress=progress,
        guard=gallery_guard,
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container over the given settings (default: `.env` + environment, loaded once)."""
    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    return container

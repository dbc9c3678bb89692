"""The composition root: the only place that reads settings and picks adapters.

Adapters are imported here but load their heavy libraries (torch, faiss, transformers, rembg)
lazily, so building the container is instant and the REPL prompt appears before any model loads.
Tests swap parts with `container.<provider>.override(...)`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dependency_injector import containers, providers

from app import feedback_wiring as fw
from app.atomic_files import atomic_write_bytes
from app.backends import migration_targets, repository_provider, vector_store_selector
from app.config import Settings, get_settings
from app.domain.decision import AnswerThresholds
from app.domain.retrieval_scoring import ScoringParams, Thresholds
from app.infrastructure.cache.file_cache import FileCache
from app.infrastructure.cache.memory_cache import MemoryCache
from app.infrastructure.charts.matplotlib_charts import MatplotlibCharts
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.detection.foreground import ForegroundDetector
from app.infrastructure.detection.owl import build_detector
from app.infrastructure.embedding.efficientnet_lite import MODEL_ID as EFFICIENTNET_ID
from app.infrastructure.embedding.finetuned import build_embedding_net, is_checkpoint_name
from app.infrastructure.embedding.onnx_model import with_runtime
from app.infrastructure.embedding.resolver import AUTO, create_embedding_model
from app.infrastructure.labels.yaml_labels import YamlLabelSource
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.infrastructure.preprocessing.preprocessed_writer import PreprocessedWriter
from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor
from app.infrastructure.preprocessing.thumbnails import JpegThumbnailer
from app.infrastructure.rebuild_lock import RebuildLock
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.attributes import AttributeClassifier
from app.services.browse import BrowseService
from app.services.cache_admin import CacheService
from app.services.cached_embeddings import CachedEmbeddings
from app.services.calibration import CalibrationService
from app.services.classify import ClassifyService
from app.services.dedup import DedupService
from app.services.evaluation import EvaluationService
from app.services.example_files import ExampleFiles
from app.services.finetune import FinetuneService
from app.services.gallery import GalleryService
from app.services.gallery_guard import GalleryGuard
from app.services.health import HealthService
from app.services.leaks import LeakFinder
from app.services.migrate import MigrateService
from app.services.pipeline import Embedder
from app.services.progress import no_progress
from app.services.rebuild import RebuildOptions, RebuildService
from app.services.retrieval import CbrOptions, RetrievalClassifier
from app.services.scanning import content_hash
from app.services.search import SearchService
from app.services.segment import SegmentService
from app.services.splitting import SplitService
from app.services.stats import StatsService
from app.services.train import TrainService
from app.services.zero_shot import ZeroShotClassifier
from app.training import arcface_trainer
from app.training.heads import TorchAttributeHeads


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


def _cbr_options(s: Settings) -> CbrOptions:
    return CbrOptions(
        scoring=ScoringParams(
            aggregation=s.cbr_aggregation,
            temperature=s.cbr_temperature,
            knn_k=s.cbr_knn_k,
            knn_weighting=s.cbr_knn_weighting,
        ),
        thresholds=Thresholds(s.cbr_min_similarity, s.cbr_min_margin),
    )


def _gallery_classifier_factory(embedder: Embedder, options: CbrOptions):
    """Makes a RetrievalClassifier over any (store, repository) pair, e.g. an evaluation's."""

    def make(store, repository) -> RetrievalClassifier:
        return RetrievalClassifier(repository, store, embedder, GalleryGuard(), options)

    return make


def _writer(s: Settings) -> PreprocessedWriter | None:
    return PreprocessedWriter(s.preprocessed_dir) if s.save_preprocessed else None


def _default_backbone(s: Settings) -> str:
    """What `finetune` starts from: EMBEDDING_MODEL when it names a plain model, else the
    packaged EfficientNet-Lite0 (for `auto`, and for an already fine-tuned model)."""
    name = s.embedding_model
    if name.lower() == AUTO or is_checkpoint_name(name):
        return EFFICIENTNET_ID
    return name


def _feature_cache_dir(s: Settings) -> Path:
    """Where `finetune` keeps backbone features (by content hash and model stamp)."""
    return Path(s.models_dir) / "feature_cache"


class Container(containers.DeclarativeContainer):
    settings = providers.ThreadSafeSingleton(get_settings)
    progress = providers.Object(no_progress)
    embedding_observer = providers.Object(None)  # the API times embedding batches with it

    torch_embedding_model = providers.ThreadSafeSingleton(  # device resolved when weights load
        create_embedding_model,
        name=settings.provided.embedding_model,
        device=settings.provided.device,
        num_threads=settings.provided.num_threads,
        state_dir=settings.provided.index_dir,
    )
    embedding_model = providers.ThreadSafeSingleton(  # INFERENCE_RUNTIME: ONNX Runtime or torch
        with_runtime,
        torch_embedding_model,
        runtime=settings.provided.inference_runtime,
        device=settings.provided.device,
        cache_dir=providers.Callable(lambda s: s.models_dir / "onnx", settings),
        num_threads=settings.provided.num_threads,
    )

    preprocess_options = providers.ThreadSafeSingleton(_preprocess_options, settings)
    rembg_preprocessor = providers.ThreadSafeSingleton(
        RembgPreprocessor,
        preprocess_options,
        model_name=settings.provided.rembg_model,
        model_path=settings.provided.rembg_model_path,
        num_threads=settings.provided.num_threads,
    )
    preprocessor = providers.Selector(
        providers.Callable(_preprocessor_key, settings),
        passthrough=providers.ThreadSafeSingleton(PadResizePreprocessor, preprocess_options),
        rembg=rembg_preprocessor,
    )

    vector_store = vector_store_selector(settings)
    repository = repository_provider(settings)
    cache = providers.ThreadSafeSingleton(MemoryCache, settings.provided.cache_size)

    embedder = providers.ThreadSafeSingleton(
        Embedder,
        preprocessor=preprocessor,
        model=embedding_model,
        batch_size=settings.provided.batch_size,
        workers=settings.provided.decode_workers,
        on_prepared=providers.Callable(_writer, settings),
        on_batch=embedding_observer,
    )

    # one lock over the gallery: rebuild and the class commands change it, predictions read it
    gallery_guard = providers.ThreadSafeSingleton(GalleryGuard)

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
    feedback_store = fw.feedback_store_provider(repository)
    refinement_defaults = providers.Callable(fw.refinement_defaults, settings)
    search_service = providers.Factory(
        SearchService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        cache=cache,
        default_k=settings.provided.top_k,
        reranker=fw.reranker_provider(settings, feedback_store, repository),
    )
    dedup_service = providers.Factory(
        DedupService, repository=repository, store=vector_store, progress=progress
    )
    stats_service = providers.Factory(
        StatsService, repository=repository, store=vector_store, embedder=embedder
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
    embedding_cache = providers.ThreadSafeSingleton(
        FileCache,
        directory=providers.Callable(lambda s: s.index_dir / "embedding-cache", settings),
        max_entries=settings.provided.embedding_cache_size,
    )
    cache_service = providers.Factory(
        CacheService, cache=cache, model=embedding_model, disk=embedding_cache
    )

    # --- classification: zero-shot, trained heads, retrieval -------------------------------
    labels = providers.ThreadSafeSingleton(YamlLabelSource, settings.provided.labels_file)
    attribute_heads = providers.ThreadSafeSingleton(
        TorchAttributeHeads, settings.provided.models_dir, write_bytes=atomic_write_bytes
    )
    zero_shot = providers.ThreadSafeSingleton(
        ZeroShotClassifier,
        model=embedding_model,
        cache=embedding_cache,
        logit_scale=settings.provided.zero_shot_logit_scale,
    )
    attribute_classifier = providers.Factory(
        AttributeClassifier,
        labels=labels,
        zero_shot=zero_shot,
        heads=attribute_heads,
        embedder=embedder,
        thresholds=providers.Factory(
            AnswerThresholds,
            min_confidence=settings.provided.classify_min_confidence,
            min_margin=settings.provided.classify_min_margin,
        ),
    )
    train_service = providers.Factory(
        TrainService,
        embeddings=providers.Factory(CachedEmbeddings, embedder, embedding_cache, kind="image"),
        heads=attribute_heads,
        training_dir=settings.provided.training_dir,
        progress=progress,
    )

    retrieval_classifier = providers.Factory(
        RetrievalClassifier,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        guard=gallery_guard,
        options=providers.ThreadSafeSingleton(_cbr_options, settings),
    )
    classify_service = providers.Factory(
        ClassifyService,
        embeddings=providers.Factory(CachedEmbeddings, embedder, cache),
        attributes=attribute_classifier,
        retrieval=retrieval_classifier,
    )
    gallery_service = providers.Factory(
        GalleryService,
        repository=repository,
        store=vector_store,
        embedder=embedder,
        guard=gallery_guard,
        files=providers.Factory(
            ExampleFiles,
            root=settings.provided.examples_dir,
            max_bytes=settings.provided.max_image_bytes,
        ),
    )
    detectors = providers.Dict(  # `segment` modes
        quick=providers.ThreadSafeSingleton(ForegroundDetector, preprocess_options),
        accurate=providers.ThreadSafeSingleton(
            ForegroundDetector, preprocess_options, mask=rembg_preprocessor.provided.foreground_mask
        ),
        detector=providers.ThreadSafeSingleton(  # OWLv2 / OWL-ViT, lazy; off when unset
            build_detector,
            model_name=settings.provided.detector_model,
            options=preprocess_options,
            queries=settings.provided.detector_query_list,
            device=settings.provided.device,
        ),
    )
    segment_service = providers.Factory(
        SegmentService, repository=repository, gallery=gallery_service, detectors=detectors
    )
    queries = fw.judged_queries_provider(settings, repository, vector_store, embedder, cache)
    feedback_service = fw.feedback_service_provider(feedback_store, queries, repository)
    feedback_curation = fw.feedback_curation_provider(feedback_store, gallery_service)
    calibration_service = providers.Factory(
        CalibrationService,
        classifier=retrieval_classifier,
        repository=repository,
        guard=gallery_guard,
    )
    migrate_service = providers.Factory(
        MigrateService,
        repository=repository,
        store=vector_store,
        open_target=providers.Callable(lambda s: migration_targets(s, build_container), settings),
        progress=progress,
    )

    charts = providers.ThreadSafeSingleton(MatplotlibCharts)
    # near-duplicates across splits (`split`, `evaluate`), on a throw-away in-memory store
    leak_finder = providers.Factory(
        LeakFinder,
        embedder=embedder,
        store_factory=providers.Callable(partial, MemoryVectorStore, None, "cosine"),
        threshold=settings.provided.leak_threshold,
        progress=progress,
    )
    split_service = providers.Factory(
        SplitService, splits_dir=settings.provided.splits_dir, progress=progress, leaks=leak_finder
    )
    # `evaluate` compares the classification rules on a throw-away gallery of its own
    retrieval_classifier_factory = providers.Callable(
        _gallery_classifier_factory, embedder, providers.ThreadSafeSingleton(_cbr_options, settings)
    )
    evaluation_service = providers.Factory(
        EvaluationService,
        embedder=embedder,
        splits=split_service,
        # a throw-away gallery: in memory only, never the catalogue index
        store_factory=providers.Callable(
            partial, MemoryVectorStore, None, settings.provided.metric
        ),
        repository_factory=providers.Object(partial(SqlRepository, "sqlite://")),
        classifier_factory=retrieval_classifier_factory,
        charts=charts,
        progress=progress,
        leaks=leak_finder,
    )
    metric_learner = providers.Factory(
        arcface_trainer,
        network_factory=providers.Object(build_embedding_net),
        decode=preprocessor.provided.prepare,
        digest=providers.Object(content_hash),
        progress=progress,
        feature_cache_dir=providers.Callable(_feature_cache_dir, settings),
        num_threads=settings.provided.num_threads,
    )
    finetune_service = providers.Factory(
        FinetuneService,
        learner=metric_learner,
        splits=split_service,
        models_dir=settings.provided.models_dir,
        charts=charts,
        default_backbone=providers.Callable(_default_backbone, settings),
        default_device=settings.provided.device,
    )


def build_container(settings: Settings | None = None) -> Container:
    """A container over the given settings (default: `.env` + environment, loaded once)."""
    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    return container

"""Learning sub-container: dataset splits, evaluation of the classification rules, metric
learning (fine-tuning) and the charts they draw.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from dependency_injector import containers, providers

from app.config import Settings
from app.domain.centres import ClassCentres
from app.domain.images import content_hash
from app.infrastructure.charts.matplotlib_charts import MatplotlibCharts
from app.infrastructure.database.sql_repository import SqlRepository
from app.infrastructure.documents.json_files import JsonFiles
from app.infrastructure.embedding.efficientnet_lite import MODEL_ID as EFFICIENTNET_ID
from app.infrastructure.embedding.finetuned import build_embedding_net, is_checkpoint_name
from app.infrastructure.embedding.resolver import AUTO
from app.infrastructure.preprocessing.image_size import image_size
from app.infrastructure.vector_store.memory_store import MemoryVectorStore
from app.services.evaluation import EvaluationService
from app.services.finetune import FinetuneService
from app.services.leaks import LeakFinder
from app.services.splitting import SplitService
from app.training import arcface_trainer


def default_backbone(s: Settings) -> str:
    """What `finetune` starts from: EMBEDDING_MODEL when it names a plain model, else the
    packaged EfficientNet-Lite0 (for `auto`, and for an already fine-tuned model)."""
    name = s.embedding_model
    if name.lower() == AUTO or is_checkpoint_name(name):
        return EFFICIENTNET_ID
    return name


def _feature_cache_dir(s: Settings) -> Path:
    """Where `finetune` keeps backbone features (by content hash and model stamp)."""
    return Path(s.models_dir) / "feature_cache"


def _class_centres(model: object) -> Callable[[], ClassCentres | None]:
    """A fine-tuned model's class centres (for the "centres" rule of `evaluate`), else none."""
    return getattr(model, "class_centres", lambda: None)


class Learning(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    models = providers.DependenciesContainer()  # the Models sub-container
    retrieval_classifier_factory = providers.Dependency()
    progress = providers.Dependency()

    charts = providers.ThreadSafeSingleton(MatplotlibCharts)
    documents = providers.ThreadSafeSingleton(JsonFiles)  # splits, reports, training histories
    # near-duplicates across splits (`split`, `evaluate`), on a throw-away in-memory store
    leak_finder = providers.Factory(
        LeakFinder,
        embeddings=models.image_embeddings,
        store_factory=providers.Callable(partial, MemoryVectorStore, None, "cosine"),
        threshold=settings.provided.leak_threshold,
        progress=progress,
    )
    split_service = providers.Factory(
        SplitService,
        splits_dir=settings.provided.splits_dir,
        documents=documents,
        image_size=providers.Object(image_size),
        progress=progress,
        leaks=leak_finder,
    )
    evaluation_service = providers.Factory(
        EvaluationService,
        embeddings=models.image_embeddings,
        splits=split_service,
        # a throw-away gallery: in memory only, never the catalogue index
        store_factory=providers.Callable(
            partial, MemoryVectorStore, None, settings.provided.metric
        ),
        repository_factory=providers.Object(partial(SqlRepository, "sqlite://")),
        classifier_factory=retrieval_classifier_factory,
        charts=charts,
        documents=documents,
        progress=progress,
        leaks=leak_finder,
        # a fine-tuned model's class centres
        centres=providers.Callable(_class_centres, models.torch_embedding_model),
    )
    metric_learner = providers.Factory(
        arcface_trainer,
        network_factory=providers.Object(build_embedding_net),
        decode=models.preprocessor.provided.prepare,
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
        documents=documents,
        default_backbone=providers.Callable(default_backbone, settings),
        default_device=settings.provided.device,
    )

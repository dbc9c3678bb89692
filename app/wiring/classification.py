"""Classification sub-container: zero-shot labels, trained attribute heads, classification by
retrieval (CBR_* settings) and the use cases over them (classify, train, calibrate).
"""

from __future__ import annotations

from dependency_injector import containers, providers

from app.atomic_files import atomic_write_bytes
from app.config import Settings
from app.domain.decision import AnswerThresholds
from app.domain.retrieval_scoring import ScoringParams, Thresholds
from app.infrastructure.labels.yaml_labels import YamlLabelSource
from app.services.attributes import AttributeClassifier
from app.services.cached_embeddings import CachedEmbeddings
from app.services.calibration import CalibrationService
from app.services.classify import ClassifyService
from app.services.gallery_guard import GalleryGuard
from app.services.retrieval import CbrOptions, RetrievalClassifier
from app.services.train import TrainService
from app.services.zero_shot import ZeroShotClassifier
from app.training.heads import TorchAttributeHeads


def cbr_options(s: Settings) -> CbrOptions:
    return CbrOptions(
        scoring=ScoringParams(
            aggregation=s.cbr_aggregation,
            temperature=s.cbr_temperature,
            knn_k=s.cbr_knn_k,
            knn_weighting=s.cbr_knn_weighting,
        ),
        thresholds=Thresholds(s.cbr_min_similarity, s.cbr_min_margin),
    )


def gallery_classifier_factory(embeddings: CachedEmbeddings, options: CbrOptions):
    """Makes a RetrievalClassifier over any (store, repository) pair, e.g. an evaluation's."""

    def make(store, repository) -> RetrievalClassifier:
        return RetrievalClassifier(repository, store, embeddings, GalleryGuard(), options)

    return make


class Classification(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    storage = providers.DependenciesContainer()  # the Storage sub-container
    models = providers.DependenciesContainer()  # the Models sub-container
    progress = providers.Dependency()

    repository, embedder = storage.repository, models.embedder
    gallery_guard, embedding_cache = storage.gallery_guard, storage.embedding_cache

    labels = providers.ThreadSafeSingleton(YamlLabelSource, settings.provided.labels_file)
    attribute_heads = providers.ThreadSafeSingleton(
        TorchAttributeHeads, settings.provided.models_dir, write_bytes=atomic_write_bytes
    )
    zero_shot = providers.ThreadSafeSingleton(
        ZeroShotClassifier,
        model=models.embedding_model,
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
        embeddings=models.image_embeddings,
        heads=attribute_heads,
        training_dir=settings.provided.training_dir,
        progress=progress,
    )
    cbr_options = providers.ThreadSafeSingleton(cbr_options, settings)  # declared once
    retrieval_classifier = providers.Factory(
        RetrievalClassifier,
        repository=repository,
        store=storage.vector_store,
        embeddings=models.query_embeddings,
        guard=gallery_guard,
        options=cbr_options,
    )
    # `evaluate` compares the classification rules on a throw-away gallery of its own
    retrieval_classifier_factory = providers.Callable(
        gallery_classifier_factory, models.query_embeddings, cbr_options
    )
    classify_service = providers.Factory(
        ClassifyService,
        embeddings=models.query_embeddings,
        attributes=attribute_classifier,
        retrieval=retrieval_classifier,
    )
    calibration_service = providers.Factory(
        CalibrationService,
        classifier=retrieval_classifier,
        repository=repository,
        guard=gallery_guard,
    )

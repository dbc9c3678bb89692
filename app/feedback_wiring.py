"""The feedback parts of the composition root: the verdict store (in the repository's database),
the re-ranker that search uses (FEEDBACK_RERANK), and the query side of a verdict.

Part of the composition root: only app/container.py uses it. Adapters never read settings.
"""

from __future__ import annotations

from dependency_injector import providers

from app.config import Settings
from app.domain.feedback import Refinement, RerankParams
from app.infrastructure.database.feedback_store import SqlFeedbackStore
from app.services.example_files import ExampleFiles
from app.services.feedback import FeedbackService
from app.services.feedback_curation import FeedbackCuration
from app.services.feedback_queries import JudgedQueries
from app.services.reranking import FeedbackReranker


def rerank_params(s: Settings) -> RerankParams:
    return RerankParams(s.feedback_similarity, s.feedback_weight, s.feedback_candidates)


def refinement_defaults(s: Settings) -> Refinement:
    """Rocchio weights for `query --more-like/--less-like` (the ids come with each query)."""
    return Refinement(beta=s.feedback_rocchio_beta, gamma=s.feedback_rocchio_gamma)


def _reranker(s: Settings, feedback, repository) -> FeedbackReranker | None:
    return FeedbackReranker(feedback, repository, rerank_params(s)) if s.feedback_rerank else None


def feedback_store_provider(repository: providers.Provider) -> providers.ThreadSafeSingleton:
    return providers.ThreadSafeSingleton(SqlFeedbackStore, repository.provided.engine)


def reranker_provider(
    settings: providers.Provider, feedback: providers.Provider, repository: providers.Provider
) -> providers.Callable:
    return providers.Callable(_reranker, settings, feedback, repository)


def judged_queries_provider(
    settings: providers.Provider,
    repository: providers.Provider,
    store: providers.Provider,
    embedder: providers.Provider,
    cache: providers.Provider,
) -> providers.Factory:
    """Query copies are kept under INDEX_DIR/feedback/queries/ (for promote and export)."""
    return providers.Factory(
        JudgedQueries,
        repository=repository,
        store=store,
        embedder=embedder,
        cache=cache,
        files=providers.Factory(
            ExampleFiles,
            root=providers.Callable(lambda s: s.index_dir / "feedback", settings),
            max_bytes=settings.provided.max_image_bytes,
        ),
    )


def feedback_service_provider(
    feedback: providers.Provider, queries: providers.Provider, repository: providers.Provider
) -> providers.Factory:
    return providers.Factory(
        FeedbackService, feedback=feedback, queries=queries, repository=repository
    )


def feedback_curation_provider(
    feedback: providers.Provider, gallery: providers.Provider
) -> providers.Factory:
    return providers.Factory(FeedbackCuration, feedback=feedback, gallery=gallery)

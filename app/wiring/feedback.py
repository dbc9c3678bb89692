"""Feedback sub-container: the verdict store (in the repository's database), the re-ranker that
search uses (FEEDBACK_RERANK), the query side of a verdict and the feedback use cases.
"""

from __future__ import annotations

from pathlib import Path

from dependency_injector import containers, providers

from app.config import Settings
from app.domain.feedback import Refinement, RerankParams
from app.infrastructure.database.feedback_store import SqlFeedbackStore
from app.infrastructure.examples.folder_store import FolderExampleStore
from app.infrastructure.exports.folder_export import FolderExport
from app.infrastructure.vector_store.faiss_indexes import FaissIndexOptions
from app.infrastructure.vector_store.faiss_store import FaissVectorStore
from app.services.feedback import FeedbackService
from app.services.feedback_curation import FeedbackCuration
from app.services.feedback_queries import JudgedQueries
from app.services.judged_index import JudgedIndex
from app.services.reranking import FeedbackReranker


def rerank_params(s: Settings) -> RerankParams:
    return RerankParams(s.feedback_similarity, s.feedback_weight, s.feedback_candidates)


def refinement_defaults(s: Settings) -> Refinement:
    """Rocchio weights for `query --more-like/--less-like` (the ids come with each query)."""
    return Refinement(beta=s.feedback_rocchio_beta, gamma=s.feedback_rocchio_gamma)


def _reranker(s: Settings, judged, repository) -> FeedbackReranker | None:
    return FeedbackReranker(judged, repository, rerank_params(s)) if s.feedback_rerank else None


JUDGED_INDEX = FaissIndexOptions(
    kind="hnsw", hnsw_m=16, ef_construction=64, ef_search=64, hnsw_codes="sq8"
)


def _judged_store() -> FaissVectorStore:
    """In memory (no folder): an HNSW graph, so a lookup stays sub-linear in the verdicts. Over
    8-bit codes: the walk reads a quarter of the memory (10,000 x 1280-d: 12.8 instead of 51 MB),
    similarities within ~1e-3 of the float ones (a weight's change in the 4th decimal)."""
    return FaissVectorStore(None, options=JUDGED_INDEX)


def _queries_dir(s: Settings) -> Path:
    """Query copies are kept under INDEX_DIR/feedback/queries/ (for promote and export)."""
    return s.index_dir / "feedback"


class Feedback(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    storage = providers.DependenciesContainer()  # the Storage sub-container
    models = providers.DependenciesContainer()  # the Models sub-container
    gallery_service = providers.Dependency()

    repository = storage.repository
    store = providers.ThreadSafeSingleton(SqlFeedbackStore, repository.provided.engine)
    # judged query vectors in an in-memory index, one per process (kept fresh per search)
    judged_index = providers.ThreadSafeSingleton(
        JudgedIndex, feedback=store, new_store=providers.Object(_judged_store)
    )
    refinement_defaults = providers.Callable(refinement_defaults, settings)
    # one per process, like the judged index: it keeps the products of the images it has seen
    reranker = providers.ThreadSafeSingleton(_reranker, settings, judged_index, repository)
    queries = providers.Factory(
        JudgedQueries,
        repository=repository,
        store=storage.vector_store,
        embedder=models.embedder,
        embeddings=models.query_embeddings,
        files=providers.Factory(
            FolderExampleStore,
            root=providers.Callable(_queries_dir, settings),
            max_bytes=settings.provided.max_image_bytes,
        ),
        keep=settings.provided.feedback_kept_queries,
    )
    service = providers.Factory(
        FeedbackService,
        feedback=store,
        queries=queries,
        repository=repository,
        judged=judged_index,
    )
    curation = providers.Factory(
        FeedbackCuration,
        feedback=store,
        gallery=gallery_service,
        export_to=providers.Factory(FolderExport),
    )

"""Use case: classification by retrieval (CbR) against the gallery of labelled examples.

The gallery is every vector in the store, labelled by its row's class name (product id). A
query's cosine similarities to all examples are aggregated per class (max-pool, prototype or
weighted k-NN vote, see `app.domain.retrieval_scoring`) into class probabilities; a query too far
from every example, or between two classes, comes back unclassifiable with the reason.

Scoring is exact: the gallery's vectors are copied once into a snapshot (N x D float32: 100k
examples of 512-d is 200 MB) and each block of queries is one matrix product with it (about
10 ms per query at 100k x 512 on two cores), so max-pool and prototypes see every example of
every class, not only those in a top-k. The snapshot is rebuilt after each gallery change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.domain.calibration import CalibrationRecord
from app.domain.classification import RetrievalPrediction
from app.domain.errors import IndexNotReady, InvalidInput, ModelMismatch
from app.domain.images import ImageInput
from app.domain.models import LABELLED, SkippedFile
from app.domain.retrieval_scoring import (
    AGGREGATIONS,
    LabelledGallery,
    Scores,
    ScoringParams,
    Thresholds,
    decide,
    score,
    unknown_aggregation,
)
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.cached_embeddings import CachedEmbeddings
from app.services.calibration_store import read_calibrations
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import EmbeddedBatch
from app.services.scanning import expand_images


@dataclass(frozen=True)
class CbrOptions:
    """The settings' defaults: how to score, and the thresholds used until `calibrate` runs."""

    scoring: ScoringParams = field(default_factory=ScoringParams)
    thresholds: Thresholds = field(default_factory=Thresholds)


@dataclass(frozen=True)
class GallerySnapshot:
    gallery: LabelledGallery
    model_stamp: str | None
    calibration: dict[str, CalibrationRecord]


@dataclass(frozen=True)
class ScoredQueries:
    """Raw scores of a batch of queries, with what produced them."""

    scores: Scores
    class_names: tuple[str, ...]
    params: ScoringParams
    thresholds: Thresholds


@dataclass
class RetrievalOutcome:
    """`predict_images`: one prediction per usable image (same order), and the skipped files."""

    images: list[str] = field(default_factory=list)
    predictions: list[RetrievalPrediction] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass(eq=False)
class RetrievalClassifier:
    repository: Repository
    store: VectorStore
    embeddings: CachedEmbeddings  # query embeddings, computed once per image content
    guard: GalleryGuard
    options: CbrOptions

    def predict_vectors(
        self, vectors: np.ndarray, aggregation: str | None = None
    ) -> list[RetrievalPrediction]:
        """One prediction per row of `vectors` (query embeddings of the current model)."""
        scored = self.score_vectors(vectors, aggregation)
        probabilities = scored.scores.probabilities
        return [
            decide(p, float(s), scored.class_names, scored.thresholds, scored.params.aggregation)
            for p, s in zip(probabilities, scored.scores.best_similarity, strict=True)
        ]

    def predict_images(
        self, images: list[ImageInput], aggregation: str | None = None
    ) -> RetrievalOutcome:
        """Predict each image (files, folders recursively, uploads); bad ones land in `skipped`."""
        self.snapshot()  # an empty or stale gallery fails before any image is embedded
        batch = self.embed_images(images)
        outcome = RetrievalOutcome(skipped=batch.skipped)
        if batch.items:
            outcome.images = [image.name for image in batch.items]
            outcome.predictions = self.predict_vectors(batch.vectors, aggregation)
        return outcome

    def embed_images(self, images: list[ImageInput]) -> EmbeddedBatch[ImageInput]:
        """Query embeddings of the images (folders expand recursively), bad files skipped;
        from the cache where the same bytes were embedded before."""
        skipped: list[SkippedFile] = []
        vectors, kept = self.embeddings.embed(expand_images(images), skipped)
        return EmbeddedBatch(kept, vectors, skipped)

    def score_vectors(self, vectors: np.ndarray, aggregation: str | None = None) -> ScoredQueries:
        """Class logits and nearest-example similarities, and the thresholds that apply."""
        snapshot = self.snapshot()
        params = self.params(aggregation)
        queries = np.asarray(vectors, dtype=np.float32)
        dim = snapshot.gallery.vectors.shape[1]
        if queries.ndim != 2 or queries.shape[1] != dim:
            raise ModelMismatch(
                f"query embeddings have shape {queries.shape}, the gallery holds dimension {dim}"
            )
        return ScoredQueries(
            score(queries, snapshot.gallery, params),
            snapshot.gallery.class_names,
            params,
            self.thresholds(params, snapshot),
        )

    def params(self, aggregation: str | None = None) -> ScoringParams:
        """The settings' scoring parameters, with `aggregation` instead when given."""
        default = self.options.scoring
        if aggregation is None or aggregation == default.aggregation:
            return default
        if aggregation not in AGGREGATIONS:
            raise InvalidInput(unknown_aggregation(aggregation))
        return ScoringParams(aggregation, default.temperature, default.knn_k, default.knn_weighting)

    def thresholds(self, params: ScoringParams, snapshot: GallerySnapshot) -> Thresholds:
        """Calibrated thresholds for this model and scoring setup, else the settings'."""
        record = snapshot.calibration.get(params.key)
        return record.thresholds if record else self.options.thresholds

    def snapshot(self) -> GallerySnapshot:
        """The current gallery; IndexNotReady when empty, ModelMismatch when made by another
        model than the current one."""
        snapshot = self.guard.snapshot(self._build_snapshot)
        if len(snapshot.gallery) == 0:
            raise IndexNotReady(
                self.store.load_problem or "the gallery is empty: run `rebuild` or `class add`"
            )
        if snapshot.model_stamp != self.embeddings.embedder.stamp:
            raise ModelMismatch(
                f"index built with {snapshot.model_stamp}, current model is "
                f"{self.embeddings.embedder.stamp}: run `rebuild`"
            )
        return snapshot

    def _build_snapshot(self) -> GallerySnapshot:
        stamp = self.store.model_stamp
        ids = self.store.ids()
        names = {r.id: r.product_id for r in self.repository.list_images() if r.source in LABELLED}
        kept = np.array([i for i in ids.tolist() if i in names], dtype=np.int64)
        gallery = LabelledGallery.build(self.store.vectors(kept), [names[i] for i in kept])
        return GallerySnapshot(gallery, stamp, read_calibrations(self.repository, stamp))

"""Use case: "what is this, and what are its attributes?" three ways, each with its confidence.

1. zero-shot with a text-image model (category, then that category's attributes),
2. trained attribute heads (`--use-trained`), falling back to zero-shot per attribute,
3. classification by retrieval against the gallery (the catalogue built by `rebuild`).

A way that cannot answer (image-only model, no heads, empty gallery) is skipped with a note; only
when none can answer is that an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.domain.classification import ImageClassification, RetrievalPrediction
from app.domain.errors import IndexNotReady, ModelMismatch, UnsupportedOperation
from app.domain.images import ImageInput
from app.domain.models import Outcome
from app.services.attributes import AttributeClassifier
from app.services.cached_embeddings import CachedEmbeddings
from app.services.scanning import expand_images


class RetrievalPredictor(Protocol):
    """Classification by retrieval: the gallery's answer for each query embedding.

    Raises IndexNotReady when the gallery is empty (ModelMismatch when built by another model).
    """

    def predict_vectors(
        self, vectors: np.ndarray, aggregation: str | None = None
    ) -> list[RetrievalPrediction]: ...


ClassifyOutcome = Outcome[ImageClassification]


@dataclass(eq=False)
class ClassifyService:
    embeddings: CachedEmbeddings
    attributes: AttributeClassifier
    retrieval: RetrievalPredictor | None = None

    def classify_images(
        self, images: Sequence[ImageInput], use_trained: bool = False
    ) -> ClassifyOutcome:
        """Classify each image (files, folders recursively, uploads); bad ones land in
        `skipped`."""
        outcome = ClassifyOutcome()
        vectors, kept = self.embeddings.embed(expand_images(images), outcome.skipped)
        if kept:
            names = [image.name for image in kept]
            outcome.results = self.classify_vectors(vectors, names, use_trained)
        return outcome

    def classify_vectors(
        self, vectors: np.ndarray, names: Sequence[str], use_trained: bool = False
    ) -> list[ImageClassification]:
        """Classify image embeddings of the current embedder (one row per name)."""
        if len(vectors) == 0:
            return []
        retrieved, retrieval_notes = self._retrieve(vectors)
        answers = self.attributes.classify(vectors, use_trained, retrieved)
        if not any(a.answered for a in answers) and all(r is None for r in retrieved):
            raise UnsupportedOperation(_nothing_answers(answers, retrieval_notes, use_trained))
        return [
            ImageClassification(
                image=name,
                category=answer.category,
                attributes=answer.attributes,
                retrieval=retrieval,
                notes=[*answer.notes, *retrieval_notes],
            )
            for name, answer, retrieval in zip(names, answers, retrieved, strict=True)
        ]

    def _retrieve(self, vectors: np.ndarray) -> tuple[list[RetrievalPrediction | None], list[str]]:
        nothing: list[RetrievalPrediction | None] = [None] * len(vectors)
        if self.retrieval is None:
            return nothing, []
        try:
            return list(self.retrieval.predict_vectors(vectors)), []
        except (IndexNotReady, ModelMismatch) as exc:
            return nothing, [f"no classification by retrieval: {exc}"]


def _nothing_answers(answers: list, retrieval_notes: list[str], use_trained: bool) -> str:
    notes = list(dict.fromkeys([n for a in answers for n in a.notes] + retrieval_notes))
    if not use_trained:
        notes.append("trained heads are used only with --use-trained")
    return "nothing can classify these images: " + "; ".join(notes)

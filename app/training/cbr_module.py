"""Classification by retrieval as a torch module: a retrieval layer over a frozen backbone.

    model = ClassificationByRetrieval(backbone)            # images tensor -> embeddings
    model.add_index_data(embeddings, ["shoe", "shoe", "hat"])
    logits = model(images)                                  # (N, classes), classes = idx_to_classes
    model.update_class_embeddings("hat", more, append=True)
    model.remove_class("shoe"); model.remove_examples([0, 3])

Classes change with no retraining. Scoring is `app.domain.retrieval_scoring`, the same numpy
code as the `RetrievalClassifier` service (tensors are converted at the boundary), so the same
embeddings give the same probabilities. `softmax(logits)` are the class probabilities; logit
columns follow `idx_to_classes` (class names sorted).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn

from app.domain.classification import RetrievalPrediction
from app.domain.retrieval_scoring import (
    LabelledGallery,
    ScoringParams,
    Thresholds,
    decide,
    score,
)
from app.domain.scoring import l2_normalize

Backbone = Callable[[torch.Tensor], torch.Tensor] | nn.Module


def _as_matrix(embeddings: torch.Tensor | np.ndarray) -> np.ndarray:
    if isinstance(embeddings, torch.Tensor):
        embeddings = embeddings.detach().float().cpu().numpy()
    matrix = np.asarray(embeddings, dtype=np.float32)
    return matrix.reshape(matrix.shape[0], -1) if matrix.ndim != 2 else matrix


class ClassificationByRetrieval(nn.Module):
    def __init__(self, backbone: Backbone, params: ScoringParams | None = None) -> None:
        super().__init__()
        self.backbone = backbone
        if isinstance(backbone, nn.Module):
            backbone.eval()
            backbone.requires_grad_(False)
        self.params = params or ScoringParams()
        self._vectors = np.empty((0, 0), dtype=np.float32)
        self._labels: list[str] = []
        self._gallery: LabelledGallery | None = None

    # ---- the index -----------------------------------------------------------------------------

    @property
    def idx_to_classes(self) -> dict[int, str]:
        """Logit column -> class name."""
        return dict(enumerate(self.gallery.class_names))

    @property
    def labels(self) -> list[str]:
        """The class of each example, in index order (what `remove_examples` counts)."""
        return list(self._labels)

    @property
    def gallery(self) -> LabelledGallery:
        if self._gallery is None:
            self._gallery = LabelledGallery.build(self._vectors, self._labels)
        return self._gallery

    def add_index_data(self, embeddings: torch.Tensor | np.ndarray, labels: Sequence[str]) -> None:
        """Append examples: one embedding row per label."""
        vectors = l2_normalize(_as_matrix(embeddings))
        if vectors.shape[0] != len(labels):
            raise ValueError(f"{len(labels)} labels for {vectors.shape[0]} embeddings")
        if self._labels and vectors.shape[1] != self._vectors.shape[1]:
            raise ValueError(
                f"embeddings have dimension {vectors.shape[1]}, the index {self._vectors.shape[1]}"
            )
        self._set(
            np.concatenate([self._vectors, vectors]) if self._labels else vectors,
            [*self._labels, *map(str, labels)],
        )

    def update_class_embeddings(
        self, name: str, embeddings: torch.Tensor | np.ndarray, append: bool = True
    ) -> None:
        """Add examples to a class (a new class is fine); `append=False` replaces its examples."""
        if not append:
            self._keep([label != name for label in self._labels])
        count = _as_matrix(embeddings).shape[0]
        self.add_index_data(embeddings, [name] * count)

    def remove_class(self, name: str) -> None:
        if name not in self._labels:
            raise KeyError(f"class {name!r} not in the index")
        self._keep([label != name for label in self._labels])

    def remove_examples(self, indices: Iterable[int]) -> None:
        """Remove examples by position in the index (see `labels`)."""
        doomed = set(indices)
        out_of_range = sorted(i for i in doomed if not 0 <= i < len(self._labels))
        if out_of_range:
            raise IndexError(f"no examples at {out_of_range} (the index holds {len(self._labels)})")
        self._keep([i not in doomed for i in range(len(self._labels))])

    # ---- inference ------------------------------------------------------------------------------

    def embed(self, images: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            return _as_matrix(self.backbone(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, classes) logits of the images against the index."""
        logits = score(self.embed(images), self.gallery, self.params).logits
        return torch.from_numpy(logits).to(images.device)

    def predict(
        self, images: torch.Tensor, thresholds: Thresholds | None = None
    ) -> list[RetrievalPrediction]:
        """Decisions as the service makes them: a class, or unclassifiable with the reason."""
        scores = score(self.embed(images), self.gallery, self.params)
        return [
            decide(
                p,
                float(s),
                self.gallery.class_names,
                thresholds or Thresholds(),
                self.params.aggregation,
            )
            for p, s in zip(scores.probabilities, scores.best_similarity, strict=True)
        ]

    def _keep(self, mask: list[bool]) -> None:
        keep = np.asarray(mask, dtype=bool)
        self._set(
            self._vectors[keep] if self._labels else self._vectors,
            [label for label, kept in zip(self._labels, mask, strict=True) if kept],
        )

    def _set(self, vectors: np.ndarray, labels: list[str]) -> None:
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._labels = labels
        self._gallery = None

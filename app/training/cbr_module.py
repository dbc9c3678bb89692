"""Classification by retrieval as a torch module: a retrieval layer over a frozen backbone.

    model = ClassificationByRetrieval(backbone, embedding_dim=1280)  # images tensor -> embeddings
    model.add_index_data(embeddings, ["shoe", "shoe", "hat"])       # sets (replaces) the index
    logits = model(images)                                  # (N, classes), classes = idx_to_classes
    model.update_class_embeddings("hat", more, append=True)
    model.remove_class("shoe"); model.remove_examples(indices=[0, 3])

Classes change with no retraining. `add_index_data` sets the whole index (so the documented
"combine `index_embeddings` with new rows, then `add_index_data`" pattern keeps one copy of each
example); `update_class_embeddings` adds to one class. `index_embeddings` (N, D) and
`class_labels` (N,) are the index as tensors: `idx_to_classes[class_labels[i]]` names row i.
With no backbone, `app.engine.ClassificationByRetrieval()` uses the packaged EfficientNet-Lite0.

Scoring is `app.domain.retrieval_scoring`, the same numpy
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
    def __init__(
        self,
        backbone: Backbone,
        embedding_dim: int | None = None,
        *,
        params: ScoringParams | None = None,
    ) -> None:
        """`embedding_dim`, when given, is checked against the backbone's output and the index."""
        super().__init__()
        self.backbone = backbone
        if isinstance(backbone, nn.Module):
            backbone.eval()
            backbone.requires_grad_(False)
        self.embedding_dim = embedding_dim
        self.params = params or ScoringParams()
        self._vectors = np.empty((0, embedding_dim or 0), dtype=np.float32)
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
    def index_embeddings(self) -> torch.Tensor:
        """(N, D) unit-length example embeddings, in index order (a copy)."""
        return torch.from_numpy(self._vectors.copy())

    @property
    def class_labels(self) -> torch.Tensor:
        """(N,) int64: each example's logit column, a key of `idx_to_classes`."""
        column = {name: i for i, name in self.idx_to_classes.items()}
        return torch.tensor([column[label] for label in self._labels], dtype=torch.int64)

    @property
    def gallery(self) -> LabelledGallery:
        if self._gallery is None:
            self._gallery = LabelledGallery.build(self._vectors, self._labels)
        return self._gallery

    def add_index_data(
        self, embeddings: torch.Tensor | np.ndarray, labels: Sequence[str | int] | torch.Tensor
    ) -> None:
        """Set the index: one embedding row per label. A label is a class name, or a column of
        `idx_to_classes` (as in `class_labels`). Replaces what the index held."""
        vectors = self._checked(embeddings)
        names = self._names(labels)
        if vectors.shape[0] != len(names):
            raise ValueError(f"{len(names)} labels for {vectors.shape[0]} embeddings")
        self._set(vectors, names)

    def _checked(self, embeddings: torch.Tensor | np.ndarray) -> np.ndarray:
        vectors = l2_normalize(_as_matrix(embeddings))
        expected = self.embedding_dim or (self._vectors.shape[1] if self._labels else None)
        if expected is not None and vectors.shape[1] != expected:
            raise ValueError(f"embeddings have dimension {vectors.shape[1]}, the index {expected}")
        return vectors

    def _names(self, labels: Sequence[str | int] | torch.Tensor) -> list[str]:
        values = labels.tolist() if isinstance(labels, torch.Tensor) else list(labels)
        classes = self.idx_to_classes
        names = []
        for value in values:
            if isinstance(value, str):
                names.append(value)
            elif isinstance(value, int | np.integer) and int(value) in classes:
                names.append(classes[int(value)])
            else:
                raise ValueError(f"label {value!r} is neither a class name nor a class index")
        return names

    def update_class_embeddings(
        self, name: str, embeddings: torch.Tensor | np.ndarray, append: bool = True
    ) -> None:
        """Add examples to a class (a new class is fine); `append=False` replaces its examples."""
        vectors = self._checked(embeddings)
        if not append:
            self._keep([label != name for label in self._labels])
        joined = np.concatenate([self._vectors, vectors]) if self._labels else vectors
        self._set(joined, [*self._labels, *[name] * vectors.shape[0]])

    def remove_class(self, name: str) -> None:
        if name not in self._labels:
            raise KeyError(f"class {name!r} not in the index")
        self._keep([label != name for label in self._labels])

    def remove_examples(self, indices: Iterable[int]) -> None:
        """Remove examples by position in the index (rows of `index_embeddings`; see `labels`).
        Positions shift after a removal; the HTTP service's example ids do not."""
        doomed = set(indices)
        out_of_range = sorted(i for i in doomed if not 0 <= i < len(self._labels))
        if out_of_range:
            raise IndexError(f"no examples at {out_of_range} (the index holds {len(self._labels)})")
        self._keep([i not in doomed for i in range(len(self._labels))])

    # ---- inference ------------------------------------------------------------------------------

    def embed(self, images: torch.Tensor) -> np.ndarray:
        """(N, D) unit-length float32 embeddings of an images tensor."""
        with torch.no_grad():
            return self._checked(self.backbone(images))

    def get_embedding(self, images: torch.Tensor) -> torch.Tensor:
        """`embed` as a tensor on the images' device."""
        return torch.from_numpy(self.embed(images)).to(images.device)

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

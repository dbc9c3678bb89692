"""Port: trained attribute heads (a small classifier per category and attribute) on embeddings."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from app.domain.heads import HeadInfo, LabelledVectors, TrainOptions


class AttributeHeads(Protocol):
    """Contract.

    - Heads are keyed by (category, attribute); `list()` returns every saved head, sorted by key.
    - `train(...)` fits a head on unit-length embeddings labelled with class names, holding out a
      stratified `options.val_fraction` to measure its accuracy; it is deterministic for a seed.
      The head is saved (replacing an older one) stamped with `model_stamp`, and its HeadInfo
      returned. Fewer than two classes is a ValueError.
    - `predict(category, attribute, vectors, model_stamp)` returns (classes, (N, C) probabilities,
      rows summing to 1). It raises NotFound when no head is saved for the key, and ModelMismatch
      ("retrain") when the head was trained on another model's embeddings. Loaded heads stay in
      memory; a head saved again (by this process or another) is reloaded.
    """

    def list(self) -> list[HeadInfo]: ...

    def train(
        self,
        category: str,
        attribute: str,
        data: LabelledVectors,
        options: TrainOptions,
        model_stamp: str,
    ) -> HeadInfo: ...

    def predict(
        self, category: str, attribute: str, vectors: np.ndarray, model_stamp: str
    ) -> tuple[list[str], np.ndarray]: ...

"""Class centres as prototypes: the nearest centre names the class (pure numpy).

A fine-tuned model's ArcFace loss learns one unit vector per class; a query's class is the centre
it is closest to by cosine. These centres are what training learned about each class, with no
gallery needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassCentres:
    classes: list[str]
    vectors: np.ndarray  # (C, D) unit rows, one per class

    def predict(self, queries: np.ndarray, classes: Sequence[str]) -> np.ndarray:
        """Index into `classes` of each query's nearest centre; len(classes) for a centre's
        class that `classes` does not hold."""
        index = {name: i for i, name in enumerate(classes)}
        nearest = np.argmax(queries @ self.vectors.T, axis=1)
        lookup = np.array([index.get(name, len(classes)) for name in self.classes], np.int64)
        return lookup[nearest]

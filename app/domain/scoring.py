"""Pure numpy maths on embeddings."""

from __future__ import annotations

import numpy as np


def l2_normalize(vectors: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit length, as float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.maximum(norms, eps)).astype(np.float32, copy=False)


def top_k(scores: np.ndarray, k: int, higher_is_better: bool = True) -> np.ndarray:
    """Indices of the best k scores of a 1-d array, best first."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    keyed = -scores if higher_is_better else scores
    part = np.argpartition(keyed, k - 1)[:k]
    return part[np.argsort(keyed[part], kind="stable")]

"""Checks and preparation of what reaches a vector store: metrics, ids, vectors, payloads."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.domain.errors import UnknownIds
from app.domain.models import VectorPayload

METRICS = ("cosine", "l2")
Hits = list[list[tuple[int, float]]]
Payloads = Sequence[VectorPayload] | None


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}: choose one of {', '.join(METRICS)}")
    return metric


def as_ids(ids: np.ndarray) -> np.ndarray:
    """A 1-d int64 array of ids >= 0 (integers only: floats are refused, not truncated)."""
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"ids must be a 1-d array, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"ids must be integers, got dtype {array.dtype}")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if array.size and array.min() < 0:
        raise ValueError("ids must be >= 0 (repository ids)")
    return array


def as_matrix(vectors: np.ndarray, what: str = "vectors") -> np.ndarray:
    """A C-contiguous float32 2-d array of finite values (a 1-d array counts as one row)."""
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] == 0:
        raise ValueError(f"{what} must be a 2-d array (rows, dim), got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} contain NaN or infinite values")
    return np.ascontiguousarray(array)


def last_rows(ids: np.ndarray) -> np.ndarray | None:
    """Rows to keep so that the last of repeated ids wins (None: no id repeats)."""
    _, first_in_reversed = np.unique(ids[::-1], return_index=True)
    if first_in_reversed.size == ids.size:
        return None
    return np.sort(ids.size - 1 - first_in_reversed)


def last_occurrence(ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop earlier duplicates of an id within one batch, so the last vector given wins."""
    keep = last_rows(ids)
    return (ids, vectors) if keep is None else (ids[keep], vectors[keep])


def check_payloads(payloads: Payloads, count: int) -> list[VectorPayload] | None:
    if payloads is None:
        return None
    payloads = list(payloads)
    if len(payloads) != count:
        raise ValueError(f"{len(payloads)} payloads for {count} ids")
    return payloads


def unknown_ids(missing: np.ndarray) -> UnknownIds:
    shown = ", ".join(str(i) for i in missing[:5].tolist())
    more = f" and {missing.size - 5} more" if missing.size > 5 else ""
    return UnknownIds(f"ids not in the index: {shown}{more}")

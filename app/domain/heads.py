"""Trained attribute heads: how to train them, what they were trained on, what they know."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.domain.models import SkippedFile


@dataclass(frozen=True)
class TrainOptions:
    """A linear head on frozen embeddings: Adam, cross-entropy, a stratified validation part."""

    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-4
    val_fraction: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch size must be at least 1")
        if not self.lr > 0:
            raise ValueError("the learning rate must be positive")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError("the validation fraction must be in [0, 1)")


@dataclass(frozen=True)
class LabelledVectors:
    """Embeddings (N, D) and the class name of each row."""

    vectors: np.ndarray
    labels: list[str]

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.labels))


@dataclass(frozen=True)
class HeadInfo:
    """A saved head: what it answers, which model's embeddings it reads, how well it did."""

    category: str
    attribute: str
    classes: list[str]
    model_stamp: str
    embedding_dim: int
    val_accuracy: float | None
    train_size: int
    val_size: int
    trained_at: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.category}/{self.attribute}"


@dataclass(frozen=True)
class TrainReport:
    head: HeadInfo
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0

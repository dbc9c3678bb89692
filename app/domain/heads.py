"""Trained attribute heads: how to train them, what they were trained on, what they know."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.domain.models import SkippedFile
from app.domain.options import option


@dataclass(frozen=True)
class TrainOptions:
    """A linear head on frozen embeddings: Adam, cross-entropy, a stratified validation part."""

    epochs: int = option(10, "passes over the training photos")
    batch_size: int = option(8, "photos per optimiser step")
    lr: float = option(1e-4, "Adam learning rate")
    val_fraction: float = option(0.2, "part of each class held out to measure accuracy")
    seed: int = option(0, "random seed")

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

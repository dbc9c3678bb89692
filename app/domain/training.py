"""Metric-learning fine-tuning: what to train, and what each epoch and the run produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEDULERS = ("cosine", "plateau")
SELECT_METRICS = ("recall@1", "map")


@dataclass(frozen=True)
class FinetuneConfig:
    """Knobs of one fine-tuning run (the `finetune` command's flags).

    Phase 1 trains the head with the backbone frozen and ArcFace margin 0; phase 2 unfreezes the
    backbone and uses `margin` (radians). Batches hold P classes x K images (P x K = batch size).
    `amp` / `tf32` None means: decide from the device (on for CUDA GPUs that support them).
    """

    backbone: str = "efficientnet-lite0"
    embedding_dim: int = 512
    image_size: int | None = None  # model input side; None = the backbone's own
    frozen_epochs: int = 5
    unfrozen_epochs: int = 10
    classes_per_batch: int = 8
    images_per_class: int = 4
    lr: float = 1e-3
    backbone_lr_factor: float = 0.1
    weight_decay: float = 1e-4
    margin: float = 0.5
    scale: float = 64.0
    accumulation: int = 1
    scheduler: str = "cosine"
    restart_epochs: int = 5  # cosine warm restarts: epochs per cycle
    patience: int = 3  # early stopping: epochs without a better val score
    select_metric: str = "recall@1"  # what picks best_model.pt and stops early: or "map"
    checkpoint_every: int = 0  # also keep epoch_NNN.pt every N epochs (0 = never)
    fresh: bool = False
    amp: bool | None = None
    tf32: bool | None = None
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}")
        if self.select_metric not in SELECT_METRICS:
            raise ValueError(f"select_metric must be one of {', '.join(SELECT_METRICS)}")
        positive = ("embedding_dim", "classes_per_batch", "images_per_class", "accumulation")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.frozen_epochs < 0 or self.unfrozen_epochs < 0:
            raise ValueError("epochs must be >= 0")

    @property
    def total_epochs(self) -> int:
        return self.frozen_epochs + self.unfrozen_epochs

    def phase_of(self, epoch: int) -> int:
        """1 (frozen backbone, margin 0) or 2 (unfrozen, full margin) for a 1-based epoch."""
        return 1 if epoch <= self.frozen_epochs else 2


@dataclass(frozen=True)
class TrainingJob:
    """Images (path, class index) to train on and to select the model with."""

    classes: list[str]
    train: list[tuple[str, int]]
    val: list[tuple[str, int]]
    out_dir: Path
    config: FinetuneConfig


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 0 = before training
    phase: int
    loss: float | None
    val_recall_at_1: float
    lr: float
    margin: float
    seconds: float
    val_map: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def score(self, metric: str) -> float:
        """The val score that selects models: "recall@1" or "map"."""
        value = self.val_recall_at_1 if metric == "recall@1" else self.val_map
        return float(value) if value is not None else -1.0


@dataclass
class TrainingOutcome:
    out_dir: str
    best_path: str
    latest_path: str
    start_epoch: int  # first epoch run now (> 1 after a resume)
    last_epoch: int
    best_epoch: int
    select_metric: str  # "recall@1" or "map", on val against the train gallery
    stopped_early: bool
    device: str
    precision: str
    seconds: float
    history: list[EpochRecord] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

"""Metric-learning fine-tuning: what to train, and what each epoch and the run produced."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.domain.options import option

SCHEDULERS = ("cosine", "plateau")
SELECT_METRICS = ("recall@1", "map")


@dataclass(frozen=True)
class FinetuneConfig:
    """Knobs of one fine-tuning run; the `finetune` command's options are derived from them.

    Phase 1 trains the head (and the ArcFace class centres) on cached backbone features of the
    un-augmented image and a few augmented views, margin 0: seconds, not minutes. Phase 2 unfreezes
    the last `unfreeze_blocks` blocks of the backbone and ramps the margin up over
    `margin_warmup` epochs. Batches hold P classes x K images. `scale` / `margin` None: chosen from
    the class count (`arcface_defaults`). `amp` / `tf32` None: decided from the device.
    """

    backbone: str = option("", "efficientnet-lite0 or a Hugging Face image model (default: "
                           "EMBEDDING_MODEL, or efficientnet-lite0)")  # fmt: skip
    embedding_dim: int = option(512, "embedding size", "--dim")
    image_size: int | None = option(None, "input side (default: the backbone's own)")
    frozen_epochs: int = option(15, "phase 1: head on cached features, backbone frozen, margin 0")
    unfrozen_epochs: int = option(10, "phase 2: last blocks unfrozen, margin warmed up", "--epochs")
    classes_per_batch: int = option(8, "P classes per batch", "-P", "--classes-per-batch")
    images_per_class: int = option(4, "K images per class in a batch", "-K", "--images-per-class")
    lr: float = option(1e-3, "learning rate of the head and class centres")
    backbone_lr_factor: float = option(0.1, "backbone lr = lr x this")
    weight_decay: float = option(1e-4, "AdamW weight decay")
    margin: float | None = option(None, "ArcFace margin in radians (default: from the class count)")
    scale: float | None = option(None, "ArcFace scale (default: from the class count)")
    margin_warmup: int = option(2, "phase 2 epochs over which the margin ramps up to --margin")
    unfreeze_blocks: int = option(5, "phase 2 trains the last N blocks of the backbone (0: all)")
    feature_views: int = option(4, "phase 1: cached views per image (the image + N-1 augmented)")
    accumulation: int = option(1, "batches per optimiser step", "--accumulation", "--accum_steps")
    scheduler: str = option("cosine", "cosine warm restarts, or halve the lr when val stalls",
                            choices=SCHEDULERS)  # fmt: skip
    restart_epochs: int = option(5, "cosine: epochs per cycle")
    patience: int = option(3, "stop a phase after this many epochs without a better val score")
    select_metric: str = option("map", "val score that picks best_model.pt and stops early (map "
                                "is steadier than recall@1 on a small val split)", "--select",
                                choices=SELECT_METRICS)  # fmt: skip
    checkpoint_every: int = option(0, "also keep checkpoint_epoch_N.pt every N epochs (0: never)")
    max_minutes: float | None = option(None, "stop at the end of the epoch that crosses N minutes")
    fresh: bool = option(False, "ignore and replace saved checkpoints")
    amp: bool | None = option(None, "mixed precision (bf16; default: on with CUDA)", "--amp",
                              "--use_bf16", "--use-bf16")  # fmt: skip
    tf32: bool | None = option(None, "TF32 matmuls (default: on with Ampere or newer GPUs)")
    device: str = option("", "auto, cpu, cuda (default: DEVICE)")
    num_workers: int = option(4, "threads decoding images", "--num-workers", "--num_workers")
    seed: int = option(0, "random seed")

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}")
        if self.select_metric not in SELECT_METRICS:
            raise ValueError(f"select_metric must be one of {', '.join(SELECT_METRICS)}")
        positive = ("embedding_dim", "classes_per_batch", "images_per_class", "accumulation",
                    "feature_views", "num_workers")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if min(self.frozen_epochs, self.unfrozen_epochs, self.unfreeze_blocks) < 0:
            raise ValueError("epochs and unfreeze_blocks must be >= 0")
        if self.max_minutes is not None and self.max_minutes <= 0:
            raise ValueError("max_minutes must be positive")

    @property
    def total_epochs(self) -> int:
        return self.frozen_epochs + self.unfrozen_epochs

    def phase_of(self, epoch: int) -> int:
        """1 (frozen backbone, margin 0) or 2 (last blocks unfrozen) for a 1-based epoch."""
        return 1 if epoch <= self.frozen_epochs else 2

    def margin_at(self, epoch: int, full: float) -> float:
        """Phase 1: 0; phase 2: ramps linearly to `full` over `margin_warmup` epochs."""
        into = epoch - self.frozen_epochs
        if into <= 0:
            return 0.0
        return full * min(1.0, into / max(1, self.margin_warmup))


def arcface_defaults(n_classes: int) -> tuple[float, float]:
    """(scale, margin) for `n_classes`: both grow with log C (a softmax over more classes needs
    a larger scale to reach a confident probability; fewer classes, few photos each, train
    better with a gentler margin). 8 classes -> (16.6, 0.16); 100 -> (36.8, 0.35)."""
    log_c = math.log(max(2, n_classes))
    return min(48.0, max(16.0, 8.0 * log_c)), min(0.35, max(0.15, 0.075 * log_c))


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
    stopped_by_budget: bool = False  # --max-minutes reached (a later run resumes)
    scale: float = 0.0  # the ArcFace scale and margin used
    margin: float = 0.0
    files: dict[str, str] = field(default_factory=dict)

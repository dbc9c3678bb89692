"""The state of a fine-tuning run: network head init, optimiser and schedule, and what a
checkpoint holds (plain types and tensors, so it loads with `weights_only=True`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from app.domain.training import EpochRecord, FinetuneConfig, TrainingJob
from app.training.epochs import StepParts


@dataclass
class RunState:
    """Where the run stands; saved in every checkpoint."""

    epoch: int = 0
    phase: int = 1
    best: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped_early: bool = False
    history: list[EpochRecord] = field(default_factory=list)


def init_head(net: Any) -> None:
    """An orthogonal projection: before training, the head keeps the backbone's geometry."""
    torch.nn.init.orthogonal_(net.head.weight)
    torch.nn.init.zeros_(net.head.bias)


def build_optimizer(net: Any, loss: Any, cfg: FinetuneConfig) -> torch.optim.Optimizer:
    groups = [
        {"params": list(net.head.parameters()), "lr": cfg.lr, "name": "head"},
        {"params": list(loss.parameters()), "lr": cfg.lr, "weight_decay": 0.0, "name": "centres"},
        {
            "params": list(net.backbone.parameters()),
            "lr": cfg.lr * cfg.backbone_lr_factor,
            "name": "backbone",
        },
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: FinetuneConfig) -> Any:
    if cfg.scheduler == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="max", factor=0.5, patience=1
        )
    return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        optimizer, T_0=max(1, cfg.restart_epochs)
    )


def restore_weights(parts: StepParts, saved: dict[str, Any]) -> None:
    parts.net.load_state_dict(saved["model"], strict=True)
    parts.loss.load_state_dict(saved["loss"])


def restore_run(saved: dict[str, Any], select_metric: str) -> RunState:
    """The run as saved; the best epoch is re-read from the history for `select_metric`."""
    history = [EpochRecord(**record) for record in saved.get("history", [])]
    best = max(history, key=lambda r: r.score(select_metric), default=None)
    return RunState(
        epoch=int(saved["epoch"]),
        phase=int(saved["phase"]),
        best=best.score(select_metric) if best else -1.0,
        best_epoch=best.epoch if best else 0,
        bad_epochs=int(saved["bad_epochs"]),
        stopped_early=bool(saved.get("stopped_early", False)),
        history=history,
    )


def payload(job: TrainingJob, parts: StepParts, run: RunState, scheduler: Any) -> dict[str, Any]:
    return {
        **parts.net.export(),
        "loss": {k: v.detach().float().cpu() for k, v in parts.loss.state_dict().items()},
        "optimizer": parts.optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": parts.scaler.state_dict() if parts.scaler is not None else None,
        "phase": run.phase,
        "epoch": run.epoch,
        "best_score": run.best,
        "best_epoch": run.best_epoch,
        "bad_epochs": run.bad_epochs,
        "stopped_early": run.stopped_early,
        "history": [record.as_dict() for record in run.history],
        "classes": list(job.classes),
        "config": asdict(job.config),
    }

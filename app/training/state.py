"""The state of a fine-tuning run: network head init, optimiser and schedule, and what a
checkpoint holds (plain types and tensors, so it loads with `weights_only=True`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from app.domain.errors import ModelMismatch
from app.domain.training import EpochRecord, FinetuneConfig, TrainingJob
from app.training import checkpoints
from app.training.epochs import StepParts

_MATCHED_META = ("backbone", "embedding_dim", "pixels")


@dataclass
class RunState:
    """Where the run stands; saved in every checkpoint."""

    epoch: int = 0
    phase: int = 1
    best: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    stopped_early: bool = False
    stopped_by_budget: bool = False
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


def restore_weights(parts: StepParts, saved: dict[str, Any], scheduler: Any = None) -> None:
    """Network, class centres, optimiser and scaler (and `scheduler`, when given) as saved."""
    saved = checkpoints.normalise(saved)
    parts.net.load_state_dict(saved["model_state_dict"], strict=True)
    parts.loss.load_state_dict(saved["loss"])
    parts.optimizer.load_state_dict(saved["optimizer_state_dict"])
    if parts.scaler is not None and saved.get("scaler") is not None:
        parts.scaler.load_state_dict(saved["scaler"])
    if scheduler is not None and saved.get("scheduler_state_dict") is not None:
        scheduler.load_state_dict(saved["scheduler_state_dict"])


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
    """A checkpoint with the documented keys: model_state_dict, optimizer_state_dict,
    scheduler_state_dict, epoch, best_metric (plus what resuming and serving need)."""
    exported = parts.net.export()
    return {
        "format": exported["format"],
        "meta": exported["meta"],
        "model_state_dict": exported["model"],
        "loss": {k: v.detach().float().cpu() for k, v in parts.loss.state_dict().items()},
        "optimizer_state_dict": parts.optimizer.state_dict(),
        "scheduler_state_dict": scheduler.state_dict() if scheduler is not None else None,
        "scaler": parts.scaler.state_dict() if parts.scaler is not None else None,
        "phase": run.phase,
        "epoch": run.epoch,
        "best_metric": run.best,
        "best_epoch": run.best_epoch,
        "bad_epochs": run.bad_epochs,
        "stopped_early": run.stopped_early,
        "history": [record.as_dict() for record in run.history],
        "classes": list(job.classes),
        "config": _plain(asdict(job.config)),
    }


def resumable(job: TrainingJob, net: Any) -> dict[str, Any] | None:
    """The latest checkpoint to resume from, checked against this job (None: start afresh)."""
    latest = job.out_dir / checkpoints.LATEST_FILE
    if job.config.fresh or not latest.is_file():
        checkpoints.clear(job.out_dir)
        return None
    saved = checkpoints.normalise(checkpoints.load(latest))
    before = {key: saved.get("meta", {}).get(key) for key in _MATCHED_META}
    now = {key: net.meta.get(key) for key in _MATCHED_META}
    if before != now or saved.get("classes") != list(job.classes):
        raise ModelMismatch(
            f"the checkpoints in {job.out_dir} are of {_describe(before, saved.get('classes'))}"
            f"; this run asks for {_describe(now, job.classes)}: use --fresh to start over, "
            "or another --out"
        )
    return saved


def _describe(meta: dict[str, Any], classes: Any) -> str:
    pixels = meta.get("pixels") or {}
    n = len(classes) if isinstance(classes, list) else "?"
    return (
        f"{meta.get('backbone')} -> {meta.get('embedding_dim')}-d, input {pixels.get('crop')} px,"
        f" {n} classes"
    )


def _plain(config: dict[str, Any]) -> dict[str, Any]:
    """Plain str for StrEnum values, so the checkpoint loads with weights_only=True."""
    return {key: str(value) if isinstance(value, str) else value for key, value in config.items()}

"""Checkpoint files of a fine-tuning run: best_model.pt, latest_model.pt, checkpoint_epoch_N.pt.

Each holds plain types and tensors only (loads with `torch.load(weights_only=True)`): the network
(`format`, `meta`, fp32 `model_state_dict`), the loss's class centres (`loss`),
`optimizer_state_dict`, `scheduler_state_dict`, scaler state, `epoch`, `best_metric` (the best val
score) and the history. Checkpoints written before these names (`model`, `optimizer`,
`scheduler`, `best_score`) still load: `normalise` maps them. Written with app/atomic_files.py.
"""

from __future__ import annotations

import pickle  # only for its error type: checkpoints load with weights_only=True
from enum import StrEnum
from pathlib import Path
from typing import Any

import torch

from app.atomic_files import atomic_write
from app.domain.errors import BackendUnavailable

BEST_FILE = "best_model.pt"
LATEST_FILE = "latest_model.pt"


# documented names <- the names of checkpoints written before them
_RENAMED = {
    "model_state_dict": "model",
    "optimizer_state_dict": "optimizer",
    "scheduler_state_dict": "scheduler",
    "best_metric": "best_score",
}


def epoch_file(epoch: int) -> str:
    return f"checkpoint_epoch_{epoch}.pt"


def normalise(saved: dict[str, Any]) -> dict[str, Any]:
    """The checkpoint with the documented key names, whichever names it was written with."""
    out = dict(saved)
    for new, old in _RENAMED.items():
        if new not in out and old in out:
            out[new] = out.pop(old)
    return out


def save(path: Path, payload: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = _plain(payload)
    atomic_write(path, lambda handle: torch.save(plain, handle))
    return path


def _plain(value: Any) -> Any:
    """Settings' enumerations (StrEnum) as plain strings: `weights_only` loads refuse classes."""
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def load(path: Path) -> dict[str, Any]:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as error:
        raise BackendUnavailable(
            f"cannot read checkpoint {path} ({error}); use --fresh to start over"
        ) from error


def clear(out_dir: Path) -> None:
    """Remove the checkpoints of an earlier run (for --fresh)."""
    if not out_dir.is_dir():
        return
    for path in [*out_dir.glob("epoch_*.pt"), *out_dir.glob("checkpoint_epoch_*.pt")]:
        path.unlink()
    for name in (BEST_FILE, LATEST_FILE):
        (out_dir / name).unlink(missing_ok=True)

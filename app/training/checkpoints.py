"""Checkpoint files of a fine-tuning run: best_model.pt, latest_model.pt, epoch_NNN.pt.

Each holds plain types and tensors only (loads with `torch.load(weights_only=True)`): the network
(`format`, `meta`, fp32 `model`), the loss's class centres, optimizer, scheduler and scaler state,
the epoch, the best val Recall@1 and the history. Written with app/atomic_files.py.
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


def epoch_file(epoch: int) -> str:
    return f"epoch_{epoch:03d}.pt"


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
    for path in out_dir.glob("epoch_*.pt"):
        path.unlink()
    for name in (BEST_FILE, LATEST_FILE):
        (out_dir / name).unlink(missing_ok=True)

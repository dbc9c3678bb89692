"""Device, numeric precision and seeding for training.

On CUDA: mixed precision is on by default (bf16 where the GPU supports it, else fp16 with a
gradient scaler) and TF32 matmuls/convolutions on Ampere or newer; both can be forced either way.
On the CPU everything stays fp32 unless mixed precision (bf16) is asked for.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch

from app.domain.errors import BackendUnavailable


@dataclass(frozen=True)
class Precision:
    device: torch.device
    autocast_dtype: torch.dtype | None
    grad_scaler: bool
    tf32: bool

    def autocast(self) -> AbstractContextManager:
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def describe(self) -> str:
        if self.autocast_dtype is None:
            text = "fp32"
        else:
            text = f"{str(self.autocast_dtype).removeprefix('torch.')} autocast"
            text += " + grad scaler" if self.grad_scaler else ""
        return text + (", TF32" if self.tf32 else "")


def pick_device(name: str) -> torch.device:
    """ "auto" -> cuda when torch sees a GPU, else cpu; cuda without a GPU is an error."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BackendUnavailable(f"--device {name} but torch sees no CUDA GPU; use cpu or auto")
    return torch.device(name)


def choose_precision(device: torch.device, amp: bool | None, tf32: bool | None) -> Precision:
    """Decide (and apply) mixed precision and TF32 for `device`; None means automatic."""
    if device.type != "cuda":
        return Precision(device, torch.bfloat16 if amp else None, False, False)
    major, _ = torch.cuda.get_device_capability(device)
    use_tf32 = major >= 8 if tf32 is None else tf32
    _set_tf32(use_tf32)
    if amp is False:
        return Precision(device, None, False, use_tf32)
    bf16 = torch.cuda.is_bf16_supported()
    dtype = torch.bfloat16 if bf16 else torch.float16
    return Precision(device, dtype, not bf16, use_tf32)


def _set_tf32(enabled: bool) -> None:
    mode = "tf32" if enabled else "ieee"
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):  # torch >= 2.9
        matmul.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode
    else:  # pragma: no cover - older torch
        matmul.allow_tf32 = enabled
        torch.backends.cudnn.allow_tf32 = enabled


def seed_everything(seed: int) -> None:
    """Python, numpy (also pytorch-metric-learning's sampler) and torch generators."""
    random.seed(seed)
    np.random.seed(seed % (2**32))  # samplers draw from numpy's global state
    torch.manual_seed(seed)


class Budget:
    """Wall-clock time of a run against an optional limit in minutes."""

    def __init__(self, max_minutes: float | None) -> None:
        self._started = time.perf_counter()
        self._limit = None if max_minutes is None else max_minutes * 60.0

    def seconds(self) -> float:
        return time.perf_counter() - self._started

    def spent(self) -> bool:
        return self._limit is not None and self.seconds() >= self._limit


@contextmanager
def cpu_threads(count: int) -> Iterator[None]:
    """torch's CPU thread count set to `count` for a while: the head's tiny steps on cached
    features gain nothing from more threads, and on a busy CPU they lose a lot waiting for them."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, min(count, before)))
    try:
        yield
    finally:
        torch.set_num_threads(before)

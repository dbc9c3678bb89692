"""Device choice and CPU tuning."""

from __future__ import annotations

import pytest
import torch

from app.domain.errors import BackendUnavailable
from app.infrastructure.embedding import runtime


def test_auto_device_follows_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.resolve_device("auto") == "cpu"
    assert runtime.resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.resolve_device("auto") == "cuda"


def test_cuda_without_gpu_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(BackendUnavailable, match="DEVICE"):
        runtime.resolve_device("cuda")


def test_configure_cpu_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(runtime, "_configured", False)
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    monkeypatch.setattr(runtime, "_tune_glibc_malloc", lambda: True)
    runtime.configure_cpu(1)
    runtime.configure_cpu(3)
    assert calls == [1]


def test_malloc_tuning_never_raises() -> None:
    assert runtime._tune_glibc_malloc() in (True, False)

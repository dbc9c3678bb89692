"""Device and precision choices, and P x K batches."""

from __future__ import annotations

import pytest
import torch

from app.domain.errors import BackendUnavailable
from app.training.epochs import pk_batches
from app.training.runtime import choose_precision, pick_device


def test_cpu_is_fp32_unless_mixed_precision_is_asked_for():
    cpu = torch.device("cpu")
    plain = choose_precision(cpu, amp=None, tf32=None)
    assert plain.autocast_dtype is None and plain.describe() == "fp32"
    mixed = choose_precision(cpu, amp=True, tf32=None)
    assert mixed.autocast_dtype == torch.bfloat16 and not mixed.grad_scaler
    with mixed.autocast():
        assert torch.mm(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16


def test_auto_device_and_missing_gpu():
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(BackendUnavailable, match="no CUDA GPU"):
            pick_device("cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_defaults_to_mixed_precision():
    precision = choose_precision(torch.device("cuda"), amp=None, tf32=None)
    assert precision.autocast_dtype in (torch.bfloat16, torch.float16)
    assert precision.grad_scaler == (precision.autocast_dtype == torch.float16)


def test_pk_batches_hold_p_classes_of_k_images():
    labels = torch.tensor([c for c in range(5) for _ in range(6)])
    batches = pk_batches(labels, p=3, k=2, seed=0)
    assert sum(len(b) for b in batches) == 30
    for batch in batches:
        counts = torch.bincount(labels[batch], minlength=5)
        assert sorted(counts[counts > 0].tolist()) == [2, 2, 2]
    again = pk_batches(labels, p=3, k=2, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(batches, again, strict=True))
    assert len(pk_batches(labels, p=9, k=2, seed=0)[0]) == 10  # P capped at the classes


def test_cpu_threads_for_a_while_then_as_before():
    from app.heap import release_memory
    from app.training.runtime import cpu_threads

    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), cpu_threads(1):
        raise RuntimeError("a failing epoch")
    assert torch.get_num_threads() == before
    release_memory()  # never raises, also where there is no glibc

"""Checkpoints load with weights_only=True, also when the run's config holds settings' enums."""

from __future__ import annotations

import torch

from app.domain.choices import Device
from app.training import checkpoints


def test_config_enums_are_saved_as_plain_strings(tmp_path):
    path = checkpoints.save(
        tmp_path / "latest_model.pt",
        {"config": {"device": Device.CPU, "tags": (Device.AUTO,)}, "model": torch.ones(2)},
    )
    loaded = checkpoints.load(path)
    assert loaded["config"] == {"device": "cpu", "tags": ("auto",)}
    assert type(loaded["config"]["device"]) is str
    assert torch.equal(loaded["model"], torch.ones(2))

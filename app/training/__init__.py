"""Training code (torch): datasets, samplers, augmentation, the ArcFace loop, checkpoints.

Importing this package is cheap; torch loads when a trainer is built.
"""

from __future__ import annotations

from typing import Any


def arcface_trainer(**kwargs: Any) -> Any:
    """An ArcFaceTrainer (imports torch and pytorch-metric-learning only now)."""
    from app.training.arcface import ArcFaceTrainer

    return ArcFaceTrainer(**kwargs)

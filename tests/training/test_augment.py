"""Train-time augmentation on tensors: shapes, determinism, horizontal (never vertical) flips."""

from __future__ import annotations

import torch

from app.training.augment import AugmentConfig, Normalise, augment, centre_crop

NORM = Normalise(24, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))
STILL = AugmentConfig(area=(1.0, 1.0), aspect=(1.0, 1.0), max_degrees=0.0, flip=0.0,
                      brightness=0.0, contrast=0.0, saturation=0.0)  # fmt: skip


def _images(side: int = 28) -> torch.Tensor:
    return torch.randint(0, 256, (4, 3, side, side), generator=torch.Generator().manual_seed(0),
                         dtype=torch.uint8)  # fmt: skip


def test_shape_range_and_determinism():
    images = _images()
    first = augment(images, NORM, torch.Generator().manual_seed(1))
    again = augment(images, NORM, torch.Generator().manual_seed(1))
    other = augment(images, NORM, torch.Generator().manual_seed(2))
    assert first.shape == (4, 3, 24, 24) and first.dtype == torch.float32
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert first.min() >= -2.0 - 1e-5 and first.max() <= 2.0 + 1e-5  # (0..1 - 0.5) / 0.25


def test_without_random_changes_it_is_the_identity():
    images = _images(24)
    out = augment(images, NORM, torch.Generator().manual_seed(0), STILL)
    torch.testing.assert_close(out, NORM(images.float() / 255), atol=1e-4, rtol=0)


def test_flips_are_horizontal_only():
    images = _images(24)
    config = AugmentConfig(**{**STILL.__dict__, "flip": 1.0})
    out = augment(images, NORM, torch.Generator().manual_seed(0), config)
    torch.testing.assert_close(out, NORM(images.flip(-1).float() / 255), atol=1e-4, rtol=0)


def test_centre_crop_matches_the_inference_crop():
    images = _images(28)
    out = centre_crop(images, NORM)
    torch.testing.assert_close(out, NORM(images[..., 2:26, 2:26].float() / 255))

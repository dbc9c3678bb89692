"""Train-time augmentation on batches of tensors (no torchvision), and the eval transform.

Input batches are uint8 (N, 3, S, S) images whose short side was resized to S (bicubic). Train:
random resized crop (0.8-1.0 of the area, aspect 3/4-4/3), horizontal flip, rotation up to 15
degrees, all in one bicubic resampling; then mild colour jitter. Never a vertical flip. Eval: the
centre crop, as the fine-tuned model sees images at inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    area: tuple[float, float] = (0.8, 1.0)
    aspect: tuple[float, float] = (3 / 4, 4 / 3)
    max_degrees: float = 15.0
    flip: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2


@dataclass(frozen=True)
class Normalise:
    crop: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """[0, 1] floats -> (x - mean) / std."""
        mean = torch.tensor(self.mean, device=images.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, device=images.device).view(1, 3, 1, 1)
        return ((images - mean) / std).contiguous(memory_format=torch.channels_last)


def centre_crop(images: torch.Tensor, norm: Normalise) -> torch.Tensor:
    """uint8 (N, 3, S, S) -> normalised float (N, 3, crop, crop), the centre."""
    side = images.shape[-1]
    top = (side - norm.crop) // 2
    cropped = images[..., top : top + norm.crop, top : top + norm.crop]
    return norm(cropped.float() / 255.0)


def augment(
    images: torch.Tensor,
    norm: Normalise,
    generator: torch.Generator,
    config: AugmentConfig | None = None,
) -> torch.Tensor:
    """uint8 (N, 3, S, S) -> augmented, normalised float (N, 3, crop, crop)."""
    config = config or AugmentConfig()
    n = images.shape[0]
    theta = _affine(n, config, generator).to(images.device)
    grid = F.affine_grid(theta, [n, 3, norm.crop, norm.crop], align_corners=False)
    pixels = images.float() / 255.0
    out = F.grid_sample(
        pixels, grid, mode="bicubic", padding_mode="reflection", align_corners=False
    )
    out = _jitter(out.clamp(0.0, 1.0), config, generator)
    return norm(out)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def _affine(n: int, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """(N, 2, 3) maps from output to input coordinates (both in [-1, 1])."""
    area = _uniform(n, *config.area, generator)
    log_aspect = _uniform(n, math.log(config.aspect[0]), math.log(config.aspect[1]), generator)
    aspect = torch.exp(log_aspect)
    width = torch.sqrt(area * aspect).clamp(max=1.0)
    height = torch.sqrt(area / aspect).clamp(max=1.0)
    cx = _uniform(n, -1.0, 1.0, generator) * (1.0 - width)
    cy = _uniform(n, -1.0, 1.0, generator) * (1.0 - height)
    angle = torch.deg2rad(_uniform(n, -config.max_degrees, config.max_degrees, generator))
    flip = torch.where(torch.rand(n, generator=generator) < config.flip, -1.0, 1.0)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.empty(n, 2, 3)
    theta[:, 0, 0] = cos * width * flip
    theta[:, 0, 1] = -sin * height
    theta[:, 0, 2] = cx
    theta[:, 1, 0] = sin * width * flip
    theta[:, 1, 1] = cos * height
    theta[:, 1, 2] = cy
    return theta


def _jitter(
    images: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> torch.Tensor:
    """Brightness, contrast and saturation, each scaled by 1 +- its strength (per image)."""
    n = images.shape[0]

    def factor(strength: float) -> torch.Tensor:
        return _uniform(n, 1 - strength, 1 + strength, generator).to(images.device).view(n, 1, 1, 1)

    images = images * factor(config.brightness)
    grey = _grey(images)
    images = (images - grey.mean(dim=(2, 3), keepdim=True)) * factor(config.contrast) + grey.mean(
        dim=(2, 3), keepdim=True
    )
    grey = _grey(images)
    images = (images - grey) * factor(config.saturation) + grey
    return images.clamp(0.0, 1.0)


def _grey(images: torch.Tensor) -> torch.Tensor:
    weights = torch.tensor([0.299, 0.587, 0.114], device=images.device).view(1, 3, 1, 1)
    return (images * weights).sum(dim=1, keepdim=True)

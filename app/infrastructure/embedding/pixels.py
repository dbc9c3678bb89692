"""Plain input processing of image backbones: bicubic resize of the short side, centre crop,
per-channel normalisation. Fine-tuned models record it as a `PixelSpec` (plain types)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class PixelSpec:
    """Resize the short side to `resize`, centre-crop `crop` x `crop`, then (x/255 - mean) / std."""

    resize: int
    crop: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def with_crop(self, crop: int | None) -> PixelSpec:
        """The same processing for another input side (resize keeps its ratio to the crop)."""
        if crop is None or crop == self.crop:
            return self
        return PixelSpec(round(crop * self.resize / self.crop), crop, self.mean, self.std)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data | {"mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PixelSpec:
        mean = tuple(float(v) for v in data["mean"])
        std = tuple(float(v) for v in data["std"])
        return cls(int(data["resize"]), int(data["crop"]), mean, std)  # type: ignore[arg-type]

    @property
    def tag(self) -> str:
        return f"s{self.resize}c{self.crop}"


def resize_short_side(image: Image.Image, short_side: int) -> Image.Image:
    width, height = image.size
    scale = short_side / min(width, height)
    size = (max(short_side, round(width * scale)), max(short_side, round(height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC)


def centre_crop(image: Image.Image, size: int) -> Image.Image:
    width, height = image.size
    left = (width - size) // 2
    top = (height - size) // 2
    return image.crop((left, top, left + size, top + size))


def to_pixels(image: Image.Image, spec: PixelSpec) -> np.ndarray:
    """PIL image -> (3, crop, crop) float32, normalised as the spec says."""
    image = centre_crop(resize_short_side(image.convert("RGB"), spec.resize), spec.crop)
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    pixels = (pixels - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def spec_from_processor(settings: dict[str, Any]) -> PixelSpec:
    """The PixelSpec closest to a Hugging Face image processor's settings (`to_dict()`)."""
    size = settings.get("size") or {}
    crop_size = settings.get("crop_size") or {}
    short = size.get("shortest_edge") or size.get("height") or 224
    if settings.get("do_center_crop") and crop_size.get("height"):
        crop, resize = int(crop_size["height"]), int(short)
    elif settings.get("crop_pct") and short < 384:  # ConvNeXt-style: resize short / crop_pct
        crop, resize = int(short), round(short / settings["crop_pct"])
    else:
        crop = resize = int(short)
    mean = settings.get("image_mean") or (0.0, 0.0, 0.0)
    std = settings.get("image_std") or (1.0, 1.0, 1.0)
    if settings.get("do_normalize") is False:
        mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return PixelSpec(resize, crop, tuple(mean), tuple(std))  # type: ignore[arg-type]

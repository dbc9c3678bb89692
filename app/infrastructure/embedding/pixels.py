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


def to_pixels(image: Image.Image, spec: PixelSpec) -> np.ndarray:
    """PIL image -> (3, crop, crop) float32, normalised as the spec says.

    An image already at the resize size (the preprocessors' square output) is not resized again;
    the crop is a view and each channel is scaled straight into the output (one pass, no
    temporaries: (x/255 - mean)/std as x * 1/(255 std) - mean/std, equal to within 1e-6)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if min(image.size) != spec.resize:
        image = resize_short_side(image, spec.resize)
    rgb = np.asarray(image)
    top, left = (rgb.shape[0] - spec.crop) // 2, (rgb.shape[1] - spec.crop) // 2
    rgb = rgb[top : top + spec.crop, left : left + spec.crop]
    out = np.empty((3, spec.crop, spec.crop), dtype=np.float32)
    for channel, (mean, std) in enumerate(zip(spec.mean, spec.std, strict=True)):
        np.multiply(rgb[:, :, channel], np.float32(1.0 / (255.0 * std)), out=out[channel])
        out[channel] -= np.float32(mean / std)
    return out


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

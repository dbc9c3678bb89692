"""to_pixels: the model input every image backbone gets, equal to the plain recipe
(resize the short side, centre crop, (x/255 - mean) / std) however the image arrives."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from app.infrastructure.embedding.pixels import PixelSpec, to_pixels

LITE = PixelSpec(256, 224, (127 / 255,) * 3, (128 / 255,) * 3)
IMAGENET = PixelSpec(232, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


def _plain(image: Image.Image, spec: PixelSpec) -> np.ndarray:
    image = image.convert("RGB")
    scale = spec.resize / min(image.size)
    size = tuple(max(spec.resize, round(side * scale)) for side in image.size)
    image = image.resize(size, Image.Resampling.BICUBIC)
    left, top = (size[0] - spec.crop) // 2, (size[1] - spec.crop) // 2
    image = image.crop((left, top, left + spec.crop, top + spec.crop))
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    pixels = (pixels - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    return pixels.transpose(2, 0, 1)


def _noise(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(sum(size))
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


@pytest.mark.parametrize("spec", [LITE, IMAGENET], ids=["lite", "imagenet"])
@pytest.mark.parametrize(
    "image",
    [_noise((256, 256)), _noise((400, 533)), _noise((533, 256)), _noise((300, 300), "L")],
    ids=["square-at-size", "portrait", "landscape-at-size", "greyscale"],
)
def test_to_pixels_equals_the_plain_recipe(image: Image.Image, spec: PixelSpec) -> None:
    pixels = to_pixels(image, spec)
    assert pixels.shape == (3, spec.crop, spec.crop)
    assert pixels.dtype == np.float32 and pixels.flags.c_contiguous
    np.testing.assert_allclose(pixels, _plain(image, spec), rtol=0, atol=1e-6)

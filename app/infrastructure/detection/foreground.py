"""Object crops from a foreground mask split into connected components.

Quick: the foreground is every pixel unlike the photo's border colour (product photos shot against
a plain background), no model needed. Accurate: the mask of a background-removal model (rembg),
passed in as `mask`."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from app.domain.images import ImageInput
from app.domain.models import Crop
from app.infrastructure.preprocessing.image_io import decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions

_WORK_SIDE = 256  # the mask is computed on a thumbnail this size


class ForegroundDetector:
    def __init__(
        self,
        options: PreprocessOptions,
        mask: Callable[[Image.Image], np.ndarray] | None = None,
        threshold: float = 40.0,
        min_area: float = 0.01,
    ) -> None:
        self._options = options
        self._mask = mask
        self._threshold = threshold  # colour distance from the background that counts as object
        self._min_area = min_area  # smallest object, as a share of the image

    def crops(self, path: Path, max_objects: int = 10) -> list[Crop]:
        image = decode_image(path, None, self._options)
        boxes = self.boxes(image)[:max_objects]
        return [_cut(image, box, f"{Path(path).stem}-{i}.png") for i, box in enumerate(boxes)]

    def boxes(self, image: Image.Image) -> list[tuple[int, int, int, int]]:
        """Boxes of the foreground's connected components, largest first, in image pixels."""
        from scipy import ndimage

        scale = _WORK_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        if self._mask is not None:
            full = Image.fromarray(self._mask(image).astype(np.uint8) * 255)
            mask = np.asarray(full.resize(size)) > 127
        else:
            small = np.asarray(image.resize(size), dtype=np.float32)
            mask = _foreground(small, self._threshold)
        mask = ndimage.binary_opening(ndimage.binary_closing(mask, iterations=2), iterations=1)
        labels, _ = ndimage.label(mask)
        found = []
        for index, region in enumerate(ndimage.find_objects(labels), start=1):
            area = int((labels[region] == index).sum())
            if region is not None and area >= self._min_area * mask.size:
                ys, xs = region
                box = (xs.start / scale, ys.start / scale, xs.stop / scale, ys.stop / scale)
                found.append((area, _clip(box, image.size)))
        return [box for _, box in sorted(found, key=lambda f: -f[0])]


def _foreground(pixels: np.ndarray, threshold: float) -> np.ndarray:
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    background = np.median(border, axis=0)
    return np.linalg.norm(pixels - background, axis=-1) > threshold


def _clip(box, size) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    w, h = size
    return (max(0, int(x0)), max(0, int(y0)), min(w, round(x1)), min(h, round(y1)))


def _cut(image: Image.Image, box: tuple[int, int, int, int], name: str) -> Crop:
    out = io.BytesIO()
    image.crop(box).save(out, format="PNG")
    return Crop(box=box, image=ImageInput.upload(name, out.getvalue()))

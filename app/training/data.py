"""Training images decoded once into memory as uint8 tensors (N, 3, S, S).

Each file goes through the same preprocessor as `rebuild` (EXIF, RGB, padding...), then its short
side is resized to S (bicubic) and the centre S x S kept. Files that do not decode are left out
and reported. Memory: 3 * S * S bytes per image (about 200 KB at S = 256).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from app.domain.errors import ImageError
from app.domain.models import SkippedFile

logger = logging.getLogger("app.training")

Decode = Callable[[Path], Image.Image]


@dataclass(frozen=True)
class ImageSet:
    images: torch.Tensor  # uint8 (N, 3, S, S)
    labels: torch.Tensor  # int64 (N,)
    skipped: list[SkippedFile] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def load_images(
    items: Sequence[tuple[str, int]],
    decode: Decode,
    side: int,
    progress: Callable[..., Any],
    desc: str,
) -> ImageSet:
    """Decode `items` (path, label) in worker threads; bad files are skipped, not raised."""

    def one(path: str) -> np.ndarray | SkippedFile:
        try:
            image = decode(Path(path))
        except ImageError as exc:
            return SkippedFile.of(exc, path)
        fitted = ImageOps.fit(image.convert("RGB"), (side, side), Image.Resampling.BICUBIC)
        return np.asarray(fitted, dtype=np.uint8).transpose(2, 0, 1)

    arrays, labels, skipped = [], [], []
    bar = progress(total=len(items), desc=desc)
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="decode") as pool:
            results = pool.map(one, [path for path, _ in items])
            for (_, label), result in zip(items, results, strict=True):
                bar.update(1)
                if isinstance(result, SkippedFile):
                    logger.warning("skipped %s: %s", result.path, result.reason)
                    skipped.append(result)
                    continue
                arrays.append(result)
                labels.append(label)
    finally:
        bar.close()
    stacked = np.stack(arrays) if arrays else np.zeros((0, 3, side, side), np.uint8)
    return ImageSet(torch.from_numpy(stacked), torch.tensor(labels, dtype=torch.int64), skipped)

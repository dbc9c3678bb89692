"""Training images streamed from disk: an ImageSet is paths, labels and content digests; a
Reader decodes a batch of them when it is needed, so memory does not grow with the catalogue.

Each file goes through the same preprocessor as `rebuild` (EXIF, RGB, padding...), then its short
side is resized to S (bicubic) and the centre S x S kept, as uint8 (N, 3, S, S). Files that do not
decode are left out and reported.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps

from app.domain.errors import ImageError, ImageFailure
from app.domain.models import SkippedFile

logger = logging.getLogger("app.training")

Decode = Callable[[Path], Image.Image]
Digest = Callable[[Path], str]


@dataclass(frozen=True)
class ImageSet:
    paths: list[str]
    labels: torch.Tensor  # int64 (N,)
    digests: list[str]  # content hash of each file
    skipped: list[SkippedFile] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.paths)

    def without(self, bad: set[int], skipped: list[SkippedFile]) -> ImageSet:
        keep = [i for i in range(len(self)) if i not in bad]
        return ImageSet(
            [self.paths[i] for i in keep],
            self.labels[keep] if keep else self.labels[:0],
            [self.digests[i] for i in keep],
            self.skipped + skipped,
        )


def index_images(
    items: Sequence[tuple[str, int]], digest: Digest, progress: Callable[..., Any], desc: str
) -> ImageSet:
    """(path, label) items with the content hash of each file; unreadable files are skipped."""

    def one(path: str) -> str | SkippedFile:
        try:
            return digest(Path(path))
        except OSError as exc:
            return SkippedFile(path, exc.strerror or str(exc), ImageFailure.UNREADABLE)

    paths, labels, digests, skipped = [], [], [], []
    bar = progress(total=len(items), desc=desc)
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="hash") as pool:
            for (path, label), result in zip(
                items, pool.map(one, [p for p, _ in items]), strict=True
            ):
                bar.update(1)
                if isinstance(result, SkippedFile):
                    logger.warning("skipped %s: %s", result.path, result.reason)
                    skipped.append(result)
                    continue
                paths.append(path)
                labels.append(label)
                digests.append(result)
    finally:
        bar.close()
    return ImageSet(paths, torch.tensor(labels, dtype=torch.int64), digests, skipped)


class Reader:
    """Decodes batches of files to uint8 (N, 3, S, S) in worker threads."""

    def __init__(self, decode: Decode, side: int, workers: int = 4) -> None:
        self._decode = decode
        self.side = side
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="decode")
        self._ahead = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")

    def read(self, paths: Sequence[str]) -> tuple[torch.Tensor, list[SkippedFile | None]]:
        """The decoded images in order, and per path None or why it was left out."""
        results = list(self._pool.map(self._one, paths))
        arrays = [r for r in results if isinstance(r, np.ndarray)]
        failures = [r if isinstance(r, SkippedFile) else None for r in results]
        side = self.side
        stacked = np.stack(arrays) if arrays else np.zeros((0, 3, side, side), np.uint8)
        return torch.from_numpy(stacked), failures

    def batches(
        self, data: ImageSet, order: Sequence[torch.Tensor]
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(images, labels) of each index batch, the next one decoded while this one is used."""
        if not order:
            return
        pending = self._ahead.submit(self._batch, data, order[0])
        for position in range(len(order)):
            current = pending.result()
            if position + 1 < len(order):
                pending = self._ahead.submit(self._batch, data, order[position + 1])
            yield current

    def close(self) -> None:
        self._ahead.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _batch(self, data: ImageSet, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images, failures = self.read([data.paths[i] for i in index.tolist()])
        kept = [i for i, failure in zip(index.tolist(), failures, strict=True) if failure is None]
        return images, data.labels[kept]

    def _one(self, path: str) -> np.ndarray | SkippedFile:
        try:
            image = self._decode(Path(path))
        except ImageError as exc:
            return SkippedFile.of(exc, path)
        fitted = ImageOps.fit(
            image.convert("RGB"), (self.side, self.side), Image.Resampling.BICUBIC
        )
        return np.asarray(fitted, dtype=np.uint8).transpose(2, 0, 1)

"""Backbone features computed once and kept on disk, so the frozen phase never runs the backbone
again: per image, the features of its centre crop and of a few augmented views, float16.

Files: `<root>/<model stamp>/<digest[:2]>/<digest>.npy` (numpy, no pickle), one per image content
hash, written atomically. The model stamp hashes the backbone's weights and its input processing,
so another model (or other weights) never reads these features; an entry with fewer views than
asked for is computed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.atomic_files import atomic_write
from app.training.augment import Normalise, augment, centre_crop
from app.training.data import ImageSet, Reader
from app.training.runtime import Precision

logger = logging.getLogger("app.training")

BATCH = 32


def model_stamp(backbone: torch.nn.Module, pixels: dict[str, Any]) -> str:
    """A short hash of the backbone's weights and its input processing."""
    digest = hashlib.sha256(json.dumps(pixels, sort_keys=True).encode())
    for name, tensor in sorted(backbone.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


class FeatureCache:
    def __init__(self, root: Path, stamp: str) -> None:
        self.folder = Path(root) / stamp

    def path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.npy"

    def get(self, digest: str) -> np.ndarray | None:
        path = self.path(digest)
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            logger.warning("ignoring damaged cached features %s: %s", path, exc)
            return None

    def has(self, digest: str, views: int) -> bool:
        """True when an entry with at least `views` views is there and whole (header and size
        checked, the rows are not read)."""
        path = self.path(digest)
        if not path.is_file():
            return False
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False).shape[0] >= views
        except (OSError, ValueError):
            return False

    def put(self, digest: str, features: np.ndarray) -> None:
        path = self.path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda handle: np.save(handle, features, allow_pickle=False))


@torch.inference_mode()
def cached_features(
    backbone: torch.nn.Module,
    data: ImageSet,
    tools: tuple[Reader, Normalise, Precision],
    cache: FeatureCache,
    *,
    views: int,
    progress: Callable[..., Any],
) -> tuple[torch.Tensor, ImageSet]:
    """float16 (N, views, D) features of `data` (view 0: the centre crop), from the cache or
    computed now; files that do not decode are left out of the returned set."""
    reader, norm, precision = tools
    missing = [i for i, digest in enumerate(data.digests) if not cache.has(digest, views)]
    bad: dict[int, Any] = {}
    bar = progress(total=len(missing), desc=f"backbone features ({views} views)")
    try:
        backbone.eval()
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            images, failures = reader.read([data.paths[i] for i in chunk])
            ok = [i for i, failure in zip(chunk, failures, strict=True) if failure is None]
            bad.update({i: f for i, f in zip(chunk, failures, strict=True) if f is not None})
            computed = _views(backbone, images, (norm, precision), views, seed=start)
            for i, row in zip(ok, computed, strict=True):
                cache.put(data.digests[i], row)
            bar.update(len(chunk))
    finally:
        bar.close()
    kept = data.without(set(bad), list(bad.values()))
    return _load_all(cache, kept.digests, views), kept


def _load_all(cache: FeatureCache, digests: list[str], views: int) -> torch.Tensor:
    """One float16 (N, views, D) array filled entry by entry (never two copies of the set)."""
    out: np.ndarray | None = None
    for row, digest in enumerate(digests):
        features = cache.get(digest)
        if features is None:
            raise OSError(f"cached features of {digest} vanished: {cache.path(digest)}")
        if out is None:
            out = np.empty((len(digests), views, features.shape[-1]), dtype=np.float16)
        out[row] = features[:views]
    if out is None:
        return torch.zeros(0, views, 1, dtype=torch.float16)
    return torch.from_numpy(out)


def _views(
    backbone: torch.nn.Module,
    images: torch.Tensor,
    tools: tuple[Normalise, Precision],
    views: int,
    seed: int,
) -> np.ndarray:
    norm, precision = tools
    images = images.to(precision.device)
    generator = torch.Generator().manual_seed(seed)
    out = []
    for view in range(views):
        pixels = centre_crop(images, norm) if view == 0 else augment(images, norm, generator)
        with precision.autocast():
            out.append(backbone(pixels).float().cpu())
    return torch.stack(out, dim=1).half().numpy()

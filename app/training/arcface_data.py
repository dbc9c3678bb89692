"""What an ArcFace run trains and validates on: the image sets, the image reader and
normalisation, and (while phase 1 is ahead) the cached backbone features of both sets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from app.domain.training import TrainingJob
from app.training.augment import Normalise
from app.training.block_inputs import BlockInputs
from app.training.data import Decode, Digest, ImageSet, Reader, index_images
from app.training.epochs import StepParts
from app.training.feature_cache import FeatureCache, cached_features, model_stamp


@dataclass
class RunData:
    train: ImageSet
    val: ImageSet
    features: torch.Tensor | None  # cached (N, views, D) of train; None when phase 1 is done
    val_features: torch.Tensor | None
    reader: Reader
    norm: Normalise
    block_inputs: BlockInputs | None = None  # phase 2: the frozen part's output, for val


@dataclass(frozen=True)
class DataSources:
    """How images are read (decode), identified (digest) and their features cached."""

    decode: Decode
    digest: Digest
    progress: Callable[..., Any]
    feature_cache_dir: Path

    def prepare(self, job: TrainingJob, parts: StepParts, *, needs_features: bool) -> RunData:
        """The image sets, and (while phase 1 is ahead) the cached backbone features."""
        cfg = job.config
        pixels = parts.net.meta["pixels"]
        norm = Normalise(int(pixels["crop"]), tuple(pixels["mean"]), tuple(pixels["std"]))
        reader = Reader(self.decode, int(pixels["resize"]), cfg.num_workers)
        train = index_images(job.train, self.digest, self.progress, "train images")
        val = index_images(job.val, self.digest, self.progress, "val images")
        if not needs_features:
            return RunData(train, val, None, None, reader, norm)
        cache = FeatureCache(self.feature_cache_dir, model_stamp(parts.net.backbone, pixels))
        tools = (reader, norm, parts.precision)
        backbone = parts.net.backbone
        features, train = cached_features(
            backbone, train, tools, cache, views=cfg.feature_views, progress=self.progress
        )
        val_features, val = cached_features(
            backbone, val, tools, cache, views=1, progress=self.progress
        )
        return RunData(train, val, features, val_features, reader, norm)

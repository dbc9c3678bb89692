"""`ClassificationByRetrieval()` with no argument: the torch module over the packaged
EfficientNet-Lite0 (offline), as the CbR module documents a default backbone."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from app.domain.retrieval_scoring import ScoringParams
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
from app.infrastructure.preprocessing.image_io import decode_image
from app.training import cbr_module


class ClassificationByRetrieval(cbr_module.ClassificationByRetrieval):
    """`app.training.cbr_module.ClassificationByRetrieval` whose backbone defaults to the
    packaged EfficientNet-Lite0 (1280-d pooled features). `to_pixels(paths)` turns image files
    into the tensor that default backbone expects."""

    def __init__(
        self,
        backbone: cbr_module.Backbone | None = None,
        embedding_dim: int | None = None,
        *,
        params: ScoringParams | None = None,
    ) -> None:
        self._default = EfficientNetLiteEmbedding() if backbone is None else None
        if self._default is not None:
            if embedding_dim not in (None, self._default.dim):
                raise ValueError(
                    f"the default backbone gives {self._default.dim}-d embeddings, "
                    f"not {embedding_dim}: pass your own backbone"
                )
            backbone, embedding_dim = self._default.torch_module(), self._default.dim
        super().__init__(backbone, embedding_dim, params=params)

    def to_pixels(self, images: Sequence[str | Path | Image.Image]) -> torch.Tensor:
        """(N, 3, 224, 224) input of the default backbone (resize, centre crop, normalise)."""
        if self._default is None:
            raise TypeError("to_pixels prepares input for the default backbone only")
        pictures = [i if isinstance(i, Image.Image) else decode_image(Path(i)) for i in images]
        return torch.from_numpy(np.stack([self._default.to_pixels(p) for p in pictures]))

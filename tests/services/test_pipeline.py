"""The decode-and-embed pipeline: batches come back in input order, each with its own vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from app.domain.images import ImageInput
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.services.pipeline import Embedder
from tests.fakes import ThumbnailModel


def _photos(folder: Path, count: int) -> list[ImageInput]:
    rng = np.random.default_rng(7)
    paths = []
    for n in range(count):
        path = folder / f"{n:02d}.png"
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return ImageInput.files(paths)


def test_batches_keep_their_own_vectors_while_the_batch_array_is_reused(tmp_path: Path) -> None:
    images = _photos(tmp_path, 11)  # batches of 4, 4 and 3
    embedder = Embedder(PadResizePreprocessor(), ThumbnailModel(), batch_size=4, workers=2)
    batches = list(embedder.embed_files(images, lambda image: image))
    assert [len(b.items) for b in batches] == [4, 4, 3]
    alone = np.concatenate([embedder.embed_all([image]).vectors for image in images])
    together = np.concatenate([b.vectors for b in batches])  # read after every batch ran
    assert [i.name for b in batches for i in b.items] == [i.name for i in images]
    np.testing.assert_allclose(together, alone, atol=1e-6)

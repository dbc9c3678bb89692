"""SAVE_PREPROCESSED=true: keep a copy of what the model saw, for inspection."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image


class PreprocessedWriter:
    """Writes `<dir>/<product>/<stem>-<hash8>.png` for each prepared image (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)

    def __call__(self, source: Path, image: Image.Image) -> None:
        source = Path(source)
        tag = hashlib.blake2b(str(source).encode(), digest_size=4).hexdigest()
        target = self._directory / source.parent.name / f"{source.stem}-{tag}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".png.tmp")
        image.save(tmp, format="PNG")
        tmp.replace(target)

"""SAVE_PREPROCESSED=true: keep a copy of what the model saw, for inspection."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image

from app.atomic_files import atomic_write


class PreprocessedWriter:
    """Writes `<dir>/<product>/<stem>-<hash8>.png` for each prepared image (thread-safe)."""

    def __init__(self, directory: Path) -> None:
        self._directory = Path(directory)

    def __call__(self, source: Path, image: Image.Image) -> None:
        source = Path(source)
        tag = hashlib.blake2b(str(source).encode(), digest_size=4).hexdigest()
        target = self._directory / source.parent.name / f"{source.stem}-{tag}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda handle: image.save(handle, format="PNG"))

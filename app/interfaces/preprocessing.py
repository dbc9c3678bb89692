"""Port: decode an image file (or bytes) and prepare it the way the model should see it."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PIL import Image


class ImagePreprocessor(Protocol):
    """Contract.

    - `prepare(source)` decodes a path or raw bytes, applies EXIF orientation, converts to RGB
      (palette, RGBA over the background colour, CMYK, 16-bit, greyscale), then the adapter's own
      steps (background removal, square padding, resize), and returns an RGB PIL image.
    - Bad input raises `ImageError` naming the file and the reason (corrupt, truncated, not an
      image, too large, unsupported mode). Thread-safe.
    - `stamp` describes the steps and their settings; it is part of every embedding's stamp.
    """

    stamp: str

    def prepare(self, source: Path | str | bytes, name: str | None = None) -> Image.Image: ...

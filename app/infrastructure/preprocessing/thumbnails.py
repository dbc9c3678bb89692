"""Thumbnails for the web page: decode (the one safe decoder) -> shrink -> JPEG bytes."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from app.infrastructure.preprocessing.image_io import decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions


class JpegThumbnailer:
    """`render(path, size)`: the image at `path` shrunk to fit `size` x `size` (aspect kept,
    never enlarged), as JPEG bytes. Decoding applies the same limits and EXIF orientation as the
    model's preprocessing (a JPEG at its smallest DCT scale still >= `size`); a bad file raises
    `ImageError`."""

    media_type = "image/jpeg"

    def __init__(self, options: PreprocessOptions, quality: int = 85) -> None:
        self._options = options
        self._quality = quality

    def render(self, path: Path, size: int) -> bytes:
        img = decode_image(path, options=self._options, draft_size=size)
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=self._quality, optimize=True)
        return out.getvalue()

"""An image file's width and height from its header (nothing decoded), for `split`."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from app.domain.errors import ImageFailure
from app.domain.models import SkippedFile, unreadable


def image_size(path: Path) -> tuple[int, int] | SkippedFile:
    """(width, height), or the skipped-file record of what is no image or cannot be read."""
    try:
        with Image.open(path) as image:
            return image.size
    except Image.DecompressionBombError:
        return SkippedFile(str(path), "too many pixels", ImageFailure.TOO_LARGE)
    except OSError as exc:
        if isinstance(exc, Image.UnidentifiedImageError):
            return SkippedFile(str(path), "not an image", ImageFailure.NOT_AN_IMAGE)
        return unreadable(path, exc)

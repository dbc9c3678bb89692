"""Adapter: decode, square-pad and resize; no background removal."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from app.infrastructure.preprocessing.geometry import pad_stamp, square_pad_resize
from app.infrastructure.preprocessing.image_io import decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions


class PadResizePreprocessor:
    """`ImagePreprocessor` that frames the whole image: decode, pad to a square, resize.

    Holds only immutable settings, so one instance may be shared by any number of threads.
    """

    def __init__(self, options: PreprocessOptions | None = None) -> None:
        self.options = options or PreprocessOptions()
        self.stamp = pad_stamp(self.options)

    def prepare(self, source: Path | str | bytes, name: str | None = None) -> Image.Image:
        img = decode_image(source, name, self.options, draft_size=self.options.size)
        return square_pad_resize(img, self.options)

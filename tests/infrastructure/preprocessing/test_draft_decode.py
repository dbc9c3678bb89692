"""JPEG draft decoding: large photos decode at a reduced DCT scale, with the same framing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from app.infrastructure.preprocessing.geometry import square_pad_resize
from app.infrastructure.preprocessing.image_io import decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor


def _photo(path: Path, size: tuple[int, int], orientation: int | None = None) -> Path:
    """A smooth photo-like image with a dark object left of centre."""
    width, height = size
    ys, xs = np.mgrid[0:height, 0:width]
    canvas = np.stack([xs * 255 // width, ys * 255 // height, np.full_like(xs, 128)], axis=-1)
    canvas[height // 3 : 2 * height // 3, width // 8 : width // 2] = (20, 30, 40)
    image = Image.fromarray(canvas.astype(np.uint8))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    image.save(path, quality=92, exif=exif.tobytes())
    return path


def test_a_large_jpeg_decodes_at_the_smallest_scale_still_large_enough(tmp_path: Path) -> None:
    path = _photo(tmp_path / "phone.jpg", (2000, 1500), orientation=6)  # rotate 90 on display
    full = decode_image(path)
    draft = decode_image(path, draft_size=256)
    assert full.size == (1500, 2000)  # EXIF orientation applied
    assert draft.size == (375, 500)  # 1/4 scale: the 1/8 one (188 x 250) would be under 256
    assert draft.mode == "RGB"


def test_drafted_framing_matches_the_full_decode(tmp_path: Path) -> None:
    options = PreprocessOptions(size=256)
    path = _photo(tmp_path / "big.jpg", (3000, 4000))
    prepared = np.asarray(PadResizePreprocessor(options).prepare(path), dtype=np.float32)
    full = np.asarray(square_pad_resize(decode_image(path), options), dtype=np.float32)
    assert prepared.shape == full.shape == (256, 256, 3)
    assert float(np.abs(prepared - full).mean()) < 2.0  # of 255


def test_small_jpegs_and_other_formats_are_decoded_whole(tmp_path: Path) -> None:
    small = _photo(tmp_path / "small.jpg", (400, 533))
    assert decode_image(small, draft_size=256).size == (400, 533)
    png = tmp_path / "big.png"
    Image.open(_photo(tmp_path / "x.jpg", (1200, 1000))).save(png)
    assert decode_image(png, draft_size=256).size == (1200, 1000)

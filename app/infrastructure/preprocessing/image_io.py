"""Decode a file or raw bytes into an RGB PIL image; every failure becomes an `ImageError`.

Checks, in order: the file can be read (missing, directory, permission), is not empty and
not larger than `max_bytes`; its header is an image format PIL knows; the declared size is
at most `max_pixels` (checked before any pixel is decoded); the pixel data decodes completely
(`load()` here, so truncation shows up now, not later). Then EXIF orientation is applied and
the image is converted to 8-bit RGB: alpha and palette transparency are composited over the
background colour, CMYK/YCbCr/greyscale/1-bit are converted, 16-bit and 32-bit images are
scaled (not clipped) to 8 bits. Animated and multi-page files give their first frame.

PIL's own process-wide decompression-bomb guard (`Image.MAX_IMAGE_PIXELS`) still applies at
`Image.open` (it rejects more than twice its value); this module never changes it.
"""

from __future__ import annotations

import io
import logging
import re
import stat
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.domain.errors import ImageError, ImageFailure
from app.infrastructure.preprocessing.options import PreprocessOptions

log = logging.getLogger(__name__)

# What PIL raises on broken data (it uses SyntaxError, struct.error etc. inside plugins).
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    struct.error,
    IndexError,
    TypeError,
    zlib.error,
)
_ALPHA_MODES = frozenset({"RGBA", "LA", "La", "RGBa", "PA"})
_HIGH_DEPTH_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I", "F"})
_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}
_BOMB_SIZES = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+)")


def decode_image(
    source: Path | str | bytes,
    name: str | None = None,
    options: PreprocessOptions | None = None,
    draft_size: int | None = None,
) -> Image.Image:
    """Decode `source` (a path, or the file's bytes) to an RGB image; `name` labels errors.

    With `draft_size`, a JPEG is decoded at the smallest of its 1/1, 1/2, 1/4, 1/8 scales whose
    sides are still at least `draft_size` (libjpeg's DCT scaling: a 3000x4000 photo needed at 256
    decodes as 375x500, several times faster). Use it when the caller shrinks the image anyway.
    """
    options = options or PreprocessOptions()
    label = _label(source, name)
    data = _read_bytes(source, label, options.max_bytes)
    img = _open(data, label, options.max_pixels)
    try:
        if draft_size and img.format == "JPEG":
            img.draft(None, (draft_size, draft_size))
        _load(img, label)
        if draft_size:
            img = _reduce_early(img, draft_size)
        _orient_in_place(img, label)
        rgb = to_rgb(img, options.bg_rgb, label, copy=False)
    except BaseException:
        img.close()
        raise
    if rgb is not img:
        img.close()
    return rgb


_REDUCIBLE_MODES = ("L", "RGB", "RGBA")


def _reduce_early(img: Image.Image, size: int) -> Image.Image:
    """Shrink a huge decoded image by an integer box filter to about twice `size` before the RGB
    copy, padding and resizing, so a small PNG declaring 88 Mpx does not cost those steps at
    full size (any format; JPEG is already decoded small by `draft`)."""
    factor = min(img.size) // (2 * size)
    if factor < 2 or img.mode not in _REDUCIBLE_MODES:
        return img
    reduced = img.reduce(factor)
    reduced.info = dict(img.info)  # EXIF orientation still applies
    img.close()
    return reduced


def to_rgb(
    img: Image.Image, bg_rgb: tuple[int, int, int], label: str = "image", copy: bool = True
) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB, compositing transparency over `bg_rgb`.

    An RGB image comes back as a copy, or (`copy=False`, for a caller that owns it) as itself."""
    if img.mode in _HIGH_DEPTH_MODES:
        img = _to_8bit(img)
    if img.mode in _ALPHA_MODES or "transparency" in img.info:
        out = composite_over(img.convert("RGBA"), bg_rgb)
    elif img.mode == "RGB":
        out = img.copy() if copy else img
    else:
        try:
            out = img.convert("RGB")
        except ValueError as exc:
            raise ImageError(
                label, f"unsupported mode {img.mode}", ImageFailure.UNSUPPORTED
            ) from exc
    out.info.clear()  # nothing downstream may re-apply EXIF orientation or a palette tRNS
    return out


def composite_over(rgba: Image.Image, bg_rgb: tuple[int, int, int]) -> Image.Image:
    """Alpha-composite an RGBA image over a solid background; returns RGB."""
    base = Image.new("RGBA", rgba.size, (*bg_rgb, 255))
    return Image.alpha_composite(base, rgba).convert("RGB")


def _label(source: Path | str | bytes, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, bytes | bytearray | memoryview):
        return "<bytes>"
    return str(source)


def _read_bytes(source: Path | str | bytes, label: str, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        data = _read_file(Path(source), label, max_bytes)
    if not data:
        raise ImageError(label, "empty file", ImageFailure.CORRUPT)
    if len(data) > max_bytes:
        raise ImageError(
            label, f"too large: {len(data)} bytes > limit {max_bytes}", ImageFailure.TOO_LARGE
        )
    return data


def _read_file(path: Path, label: str, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ImageError(label, "is a directory", ImageFailure.UNREADABLE)
        if info.st_size > max_bytes:
            raise ImageError(
                label,
                f"too large: {info.st_size} bytes > limit {max_bytes}",
                ImageFailure.TOO_LARGE,
            )
        with path.open("rb") as fh:
            return _read_capped(fh, info.st_size if stat.S_ISREG(info.st_mode) else 0, max_bytes)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise ImageError(label, "file not found", ImageFailure.UNREADABLE) from exc
    except PermissionError as exc:
        raise ImageError(label, "permission denied", ImageFailure.UNREADABLE) from exc
    except IsADirectoryError as exc:
        raise ImageError(label, "is a directory", ImageFailure.UNREADABLE) from exc
    except OSError as exc:
        raise ImageError(
            label, f"cannot read file ({exc.strerror or exc})", ImageFailure.UNREADABLE
        ) from exc


def _read_capped(fh: BinaryIO, size: int, max_bytes: int) -> bytes:
    """At most `max_bytes` + 1 bytes (one more than allowed: a file that grew, or /dev/zero, is
    caught). A regular file is read into a buffer of its own size + 1: a buffer of the cap
    (50 MB) would be mapped and unmapped for every photo, which interrupts every core."""
    expected = size + 1 if 0 < size < max_bytes else max_bytes + 1
    data = fh.read(expected)
    if len(data) == expected <= max_bytes:  # it grew since stat(): read on, up to the cap
        data += fh.read(max_bytes + 1 - expected)
    return data


def _open(data: bytes, label: str, max_pixels: int) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageError(label, _bomb_reason(exc, max_pixels), ImageFailure.TOO_LARGE) from exc
    except UnidentifiedImageError as exc:
        raise ImageError(label, *_unidentified(data)) from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(label, _decode_reason(exc), ImageFailure.CORRUPT) from exc
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ImageError(
            label,
            f"too large: {width}x{height} pixels > limit {max_pixels}",
            ImageFailure.TOO_LARGE,
        )
    if width < 1 or height < 1:
        img.close()
        raise ImageError(label, f"corrupt image (size {width}x{height})", ImageFailure.CORRUPT)
    return img


def _load(img: Image.Image, label: str) -> None:
    try:
        img.load()
    except Image.DecompressionBombError as exc:
        raise ImageError(label, _bomb_reason(exc, None), ImageFailure.TOO_LARGE) from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(label, _decode_reason(exc), ImageFailure.CORRUPT) from exc


def _orient_in_place(img: Image.Image, label: str) -> None:
    """Apply the EXIF orientation tag (no copy when there is none); a broken EXIF block is
    ignored, not fatal."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except _DECODE_ERRORS as exc:
        log.warning("%s: ignoring unreadable EXIF orientation (%s)", label, exc)


def _to_8bit(img: Image.Image) -> Image.Image:
    """Scale a 16-bit, 32-bit integer or float greyscale image to 8-bit L."""
    arr = np.asarray(img, dtype=np.float32)
    sixteen_bit = img.mode.startswith("I;16") or (
        img.mode == "I" and arr.min() >= 0 and arr.max() <= 65535
    )
    if sixteen_bit:
        scaled = arr / 257.0
    elif img.mode == "F" and _within(arr, 0.0, 1.0):
        scaled = np.nan_to_num(arr) * 255.0
    else:
        scaled = _stretch(arr)
    out = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def _within(arr: np.ndarray, low: float, high: float) -> bool:
    finite = arr[np.isfinite(arr)]
    return finite.size == 0 or (float(finite.min()) >= low and float(finite.max()) <= high)


def _stretch(arr: np.ndarray) -> np.ndarray:
    """Min-max stretch the finite values to 0..255 (non-finite values become 0)."""
    finite = np.isfinite(arr)
    if not finite.any():
        return np.zeros_like(arr)
    low, high = float(arr[finite].min()), float(arr[finite].max())
    span = high - low if high > low else 1.0
    return np.where(finite, (arr - low) * (255.0 / span), 0.0)


def _unidentified(data: bytes) -> tuple[str, ImageFailure]:
    for magic, fmt in _MAGIC.items():
        if data.startswith(magic):
            return (
                f"truncated image data ({fmt} header incomplete or corrupt)",
                ImageFailure.CORRUPT,
            )
    return "not an image (unrecognised format)", ImageFailure.NOT_AN_IMAGE


def _decode_reason(exc: BaseException) -> str:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "truncat" in message.lower():
        return "truncated image data"
    return f"corrupt image data ({message[:120]})"


def _bomb_reason(exc: BaseException, max_pixels: int | None) -> str:
    """PIL refuses past twice its own limit before our check runs: say the configured limit
    (MAX_IMAGE_PIXELS), which is the one a user can change."""
    match = _BOMB_SIZES.search(str(exc))
    limit = max_pixels if max_pixels is not None else (match.group(2) if match else None)
    if match:
        return f"too large: {match.group(1)} pixels > limit {limit} (MAX_IMAGE_PIXELS)"
    return f"too large: decompression bomb (limit {limit} pixels, MAX_IMAGE_PIXELS)"

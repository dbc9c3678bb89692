"""LANCZOS resize of an RGB photo: Pillow's pixels, at about half Pillow's CPU once warm.

`resize_lanczos(img, size)` equals `img.resize(size, LANCZOS, reducing_gap=3.0)` byte for byte.
Pillow's resampling loop walks the filter taps of one pixel at a time; the compiled kernels in
`lanczos_kernels` (numba, which rembg already installs) do the same integer sums a whole row at
a time, on a transposed copy for the horizontal pass: 2.27 -> 1.0 ms for a 400x533 photo.

Loading numba and the kernels costs ~0.5 s of CPU (1.3 s the very first time, while numba
compiles into its cache), worth it only to a process that resizes many photos. So the first
`WARM_AFTER` resizes of a process use Pillow, the next one starts loading the kernels in a
background thread, and Pillow keeps serving until they are ready: a one-photo query never pays
for them; a rebuild switches over after a few dozen photos. Without numba everything stays on
Pillow. Inputs Pillow would first box-reduce (more than 6x smaller) or that are not RGB go to
Pillow as well.
"""

from __future__ import annotations

import functools
import logging
import threading
from types import ModuleType

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

# Shrinking more than 2x this, Pillow box-reduces by an integer factor first, then resamples:
# visually the same as one LANCZOS pass, several times faster on large photos.
REDUCING_GAP = 3.0
WARM_AFTER = 64


def resize_lanczos(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`img.resize(size, LANCZOS, reducing_gap=REDUCING_GAP)`, the same bytes, less CPU."""
    kernels = _KERNELS.get()
    if kernels is None or not _compiled_fits(img, size):
        return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    return _resize(kernels, img, size)


def _compiled_fits(img: Image.Image, size: tuple[int, int]) -> bool:
    """RGB, and no box reduction first (Pillow's own test of `reducing_gap`)."""
    width, height = img.size
    reduce_x = int(width / size[0] / REDUCING_GAP) or 1
    reduce_y = int(height / size[1] / REDUCING_GAP) or 1
    return img.mode == "RGB" and reduce_x == 1 and reduce_y == 1


class _Kernels:
    """The compiled kernels of this process: loaded in the background after WARM_AFTER calls."""

    def __init__(self, warm_after: int) -> None:
        self._warm_after = warm_after
        self._calls = 0
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self.module: ModuleType | None = None

    def get(self) -> ModuleType | None:
        if self.module is not None or self._loader is not None:  # loaded, loading or failed
            return self.module
        with self._lock:
            self._calls += 1
            if self._loader is not None or self._calls <= self._warm_after:
                return None
            self._loader = threading.Thread(target=self._load, name="lanczos-kernels")
            self._loader.start()  # not a daemon: an exit waits for it, never cuts a compile
        return None

    def wait(self, timeout: float | None = None) -> ModuleType | None:
        """The kernels once the background load (if started) has finished."""
        if self._loader is not None:
            self._loader.join(timeout)
        return self.module

    def _load(self) -> None:
        try:
            from app.infrastructure.preprocessing import lanczos_kernels
        except Exception as error:  # no numba, or numba cannot compile here: stay on Pillow
            logger.info("compiled LANCZOS unavailable (%s); resizing with Pillow", error)
            return
        self.module = lanczos_kernels


_KERNELS = _Kernels(WARM_AFTER)


@functools.lru_cache(maxsize=512)
def _coefficients(kernels: ModuleType, in_size: int, out_size: int) -> tuple[np.ndarray, ...]:
    return kernels.coefficients(in_size, out_size)  # never written to: shared by all threads


def _resize(kernels: ModuleType, img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Pillow's two passes in Pillow's order (vertical first only when the height shrinks more
    than twice as much as the width), on 4-byte RGBX pixels."""
    (width, height), (new_w, new_h) = img.size, size
    pixels = np.frombuffer(img.tobytes("raw", "RGBX"), np.uint32).reshape(height, width)
    shrink_y = height - new_h
    if shrink_y > 0 and shrink_y > (width - new_w) * 2:
        pixels = _columns(kernels, _rows(kernels, pixels, height, new_h), new_w)
    else:
        first = 0
        if height != new_h:  # like Pillow, the horizontal pass skips rows no output reads
            bounds, _ = _coefficients(kernels, height, new_h)
            first = int(bounds[0, 0])
            pixels = pixels[first : bounds[-1, 0] + bounds[-1, 1]]
        pixels = _rows(kernels, _columns(kernels, pixels, new_w), height, new_h, first)
    return Image.frombytes("RGB", size, pixels, "raw", "RGBX")


def _rows(
    kernels: ModuleType, pixels: np.ndarray, height: int, new_h: int, first: int = 0
) -> np.ndarray:
    """The vertical pass from `height` to `new_h` rows; `pixels` starts at row `first`."""
    if height == new_h:
        return pixels
    bounds, taps = _coefficients(kernels, height, new_h)
    if first:
        bounds = bounds - np.array([first, 0], dtype=np.int64)
    out = np.empty((new_h, pixels.shape[1]), np.uint32)
    kernels.resample_rows(pixels.view(np.uint8), bounds, taps, out.view(np.uint8))
    return out


def _columns(kernels: ModuleType, pixels: np.ndarray, new_w: int) -> np.ndarray:
    """The horizontal pass, as a vertical pass over the transposed image."""
    height, width = pixels.shape
    if width == new_w:
        return pixels
    bounds, taps = _coefficients(kernels, width, new_w)
    turned = np.empty((width, height), np.uint32)
    kernels.transpose(pixels, turned)
    resized = np.empty((new_w, height), np.uint32)
    kernels.resample_rows(turned.view(np.uint8), bounds, taps, resized.view(np.uint8))
    out = np.empty((height, new_w), np.uint32)
    kernels.transpose(resized, out)
    return out

"""Pillow's LANCZOS resampling of 8-bit images, compiled by numba (imported only by `lanczos`).

The arithmetic is Pillow's own (src/libImaging/Resample.c, 8 bits per channel): coefficients in
double precision from the same formulas, normalised per output pixel, rounded to 22-bit fixed
point; each pass sums `pixel * coefficient` in int32 from a half-unit start and clips `sum >> 22`
to 0..255. Only the loop order differs: a pass runs along the rows of a C-contiguous array, so
the inner loop is a plain vector multiply-add over a whole row (SIMD), where Pillow's inner loop
walks the few filter taps of one pixel. Integer sums in another order are the same sums, so the
output is the same bytes. Signatures are explicit: compiled (or read from numba's cache) once,
when this module is imported, never inside a worker thread.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

_BYTES_IN = types.Array(types.uint8, 2, "C", readonly=True)  # writable arrays are accepted too
_PIXELS_IN = types.Array(types.uint32, 2, "C", readonly=True)

PRECISION_BITS = 32 - 8 - 2
_HALF = 1 << (PRECISION_BITS - 1)
_ONE = float(1 << PRECISION_BITS)
_SUPPORT = 3.0  # LANCZOS (a = 3)


@njit("float64(float64)", cache=True, nogil=True)
def _sinc(x):  # pragma: no cover - runs compiled
    if x == 0.0:
        return 1.0
    x = x * math.pi
    return math.sin(x) / x


@njit("float64(float64)", cache=True, nogil=True)
def _lanczos(x):  # pragma: no cover - runs compiled
    if -3.0 <= x < 3.0:
        return _sinc(x) * _sinc(x / 3)
    return 0.0


@njit("Tuple((int64[:, ::1], int32[:, ::1]))(int64, int64)", cache=True, nogil=True)
def coefficients(in_size, out_size):  # pragma: no cover - runs compiled
    """Pillow's `precompute_coeffs` + `normalize_coeffs_8bpc` for the box (0, in_size):
    per output pixel, the first input pixel and the tap count, and the fixed-point taps."""
    scale = float(in_size) / out_size
    filterscale = scale if scale > 1.0 else 1.0
    support = _SUPPORT * filterscale
    ksize = math.ceil(support) * 2 + 1
    inverse = 1.0 / filterscale
    bounds = np.zeros((out_size, 2), np.int64)
    taps = np.zeros((out_size, ksize), np.int32)
    weights = np.zeros(ksize, np.float64)
    for out in range(out_size):
        center = 0.0 + (out + 0.5) * scale
        first = max(int(center - support + 0.5), 0)
        count = min(int(center + support + 0.5), in_size) - first
        total = 0.0
        for tap in range(count):
            weights[tap] = _lanczos((tap + first - center + 0.5) * inverse)
            total += weights[tap]
        for tap in range(count):
            weight = weights[tap] / total if total != 0.0 else weights[tap]
            rounding = -0.5 if weight < 0 else 0.5
            taps[out, tap] = int(rounding + weight * _ONE)
        bounds[out, 0] = first
        bounds[out, 1] = count
    return bounds, taps


@njit(types.void(_BYTES_IN, types.int64[:, ::1], types.int32[:, ::1], types.uint8[:, ::1]),
      cache=True, nogil=True)  # fmt: skip
def resample_rows(source, bounds, taps, out):  # pragma: no cover - runs compiled
    """out[o] = clip8(sum over t of source[first(o) + t] * taps[o, t]), whole rows at a time."""
    width = source.shape[1]
    total = np.empty(width, np.int32)
    for row in range(out.shape[0]):
        total[:] = _HALF
        first, count = bounds[row, 0], bounds[row, 1]
        tap = 0
        while tap + 1 < count:  # two taps per sweep: half the loads and stores of `total`
            w0, w1 = taps[row, tap], taps[row, tap + 1]
            a, b = source[first + tap], source[first + tap + 1]
            for i in range(width):
                total[i] += np.int32(a[i]) * w0 + np.int32(b[i]) * w1
            tap += 2
        if tap < count:
            w0, a = taps[row, tap], source[first + tap]
            for i in range(width):
                total[i] += np.int32(a[i]) * w0
        for i in range(width):
            value = total[i] >> PRECISION_BITS
            out[row, i] = 0 if value < 0 else (255 if value > 255 else value)


@njit(types.void(_PIXELS_IN, types.uint32[:, ::1]), cache=True, nogil=True)
def transpose(source, out):  # pragma: no cover - runs compiled
    """out = source.T for 4-byte pixels, in 32 x 32 tiles (both arrays stay in cache)."""
    height, width = source.shape
    for top in range(0, height, 32):
        bottom = min(top + 32, height)
        for left in range(0, width, 32):
            for x in range(left, min(left + 32, width)):
                for y in range(top, bottom):
                    out[x, y] = source[y, x]

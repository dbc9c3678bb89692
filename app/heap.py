"""Freed heap memory handed back to the system.

glibc keeps freed memory in its heaps (one per thread that allocated, e.g. each decode worker) for
reuse rather than returning it, so a phase or request that decoded many images leaves its peak
resident after freeing it. `malloc_trim(0)` returns the free pages of every heap; where the C
library has no such call (musl, macOS) this does nothing. Like atomic_files, a bottom-layer module
any layer may use.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Give the C heaps' free pages back to the system (a few ms)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)

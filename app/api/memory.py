"""Memory of requests with uploads: where uploads wait, and memory given back afterwards.

Starlette's multipart parser writes an upload larger than its spool size to a temporary file
while the request arrives (smaller ones stay in memory); UPLOAD_SPOOL_BYTES sets that size.
glibc keeps freed memory in its heaps (one per thread that allocated, e.g. each decode worker)
for reuse rather than returning it, so a request that decoded 1,000 images left tens of MB
resident after it had freed them. `malloc_trim(0)` returns the free pages of every heap; where
the C library has no such call (musl, macOS) this does nothing.
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


def spool_uploads_over(size: int) -> None:
    """Uploads larger than `size` bytes wait in a temporary file, not in memory (the parser's
    setting is process-wide: one app per process)."""
    from starlette.formparsers import MultiPartParser

    MultiPartParser.spool_max_size = size

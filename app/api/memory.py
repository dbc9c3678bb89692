"""Memory of requests with uploads: where uploads wait, and memory given back afterwards.

Starlette's multipart parser writes an upload larger than its spool size to a temporary file
while the request arrives (smaller ones stay in memory); UPLOAD_SPOOL_BYTES sets that size.
After a request with uploads the memory its decoding used goes back to the system
(app/heap.py: a request that decoded 1,000 images left tens of MB resident without it).
"""

from __future__ import annotations


def spool_uploads_over(size: int) -> None:
    """Uploads larger than `size` bytes wait in a temporary file, not in memory (the parser's
    setting is process-wide: one app per process)."""
    from starlette.formparsers import MultiPartParser

    MultiPartParser.spool_max_size = size

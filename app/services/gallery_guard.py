"""One lock over the gallery (repository rows + vector store), shared through the container.

Writers (rebuild, the class commands, calibrate) change the gallery one at a time inside
`writing()`. Readers (predictions) use `snapshot(build)`: an immutable view of the gallery built
under the same lock and kept until the next write ends. A prediction therefore sees the gallery
as it was before a change or after it, never halfway; while a write is in progress readers keep
using the snapshot from before it, and only wait when there is none yet.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class GalleryGuard:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._generation = 0
        self._snapshot: tuple[int, Any] | None = None

    @property
    def generation(self) -> int:
        """How many writes have ended (a new snapshot is built after each)."""
        return self._generation

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive access for a change; snapshots taken before it stay in use until it ends."""
        with self._lock:
            try:
                yield
            finally:
                self._snapshot = None
                self._generation += 1

    def snapshot(self, build: Callable[[], T]) -> T:
        """The current snapshot, built by `build()` (under the lock) when there is none."""
        held = self._snapshot
        if held is not None and held[0] == self._generation:
            return held[1]
        with self._lock:
            held = self._snapshot
            if held is None or held[0] != self._generation:
                held = (self._generation, build())
                self._snapshot = held
            return held[1]

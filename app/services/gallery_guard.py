"""One lock over the gallery (repository rows + vector store), shared through the container.

Writers (rebuild checkpoints, the class commands, crops, promote, calibrate, migrate) change the
gallery one at a time inside `writing()`: a lock between the threads of this process, then the
writer lock between processes (`process_lock`, e.g. a file lock on the index folder), and then
the store is brought up to the newest saved generation before the writer reads and modifies it
(read-modify-write: a change saved by another process meanwhile is never overwritten). If that
newest generation cannot be loaded (a damaged file, too many open files), the write fails and
saves nothing; only a rebuild that replaces the whole index may go on. When a write fails, the
store goes back to what is saved, so no unsaved half-change is ever served.

Readers (predictions) use `snapshot(build)`: an immutable view of the gallery built under the
same lock and kept until the next write ends here or a newer generation is saved elsewhere. A
prediction therefore sees the gallery as it was before a change or after it, never halfway.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeVar

from app.interfaces.vector_store import VectorStore

T = TypeVar("T")
log = logging.getLogger(__name__)


class GalleryGuard:
    def __init__(
        self,
        process_lock: Callable[[], AbstractContextManager[object]] = nullcontext,
        store: VectorStore | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._process_lock = process_lock
        self._store = store
        self._depth = 0  # writing() re-enters inside one thread
        self._generation = 0
        self._snapshot: tuple[int, Any] | None = None

    @property
    def generation(self) -> int:
        """How many writes have ended or newer saves were followed (a new snapshot after each)."""
        return self._generation

    @contextmanager
    def writing(self, replacing: bool = False) -> Iterator[None]:
        """Exclusive access for a change, on the newest saved gallery; snapshots taken before it
        stay in use until it ends. When the saved index does not load, the change is refused
        (BackendUnavailable) unless it is `replacing` the whole index (`rebuild --full`)."""
        with self._lock:
            if self._depth:
                yield
                return
            with self._process_lock():
                self.follow(must_load=not replacing)
                self._depth = 1
                try:
                    yield
                except BaseException:
                    self._discard_unsaved()
                    raise
                finally:
                    self._depth = 0
                    self._snapshot = None
                    self._generation += 1

    def _discard_unsaved(self) -> None:
        """After a failed write, serve what is saved (the failure itself is what gets raised)."""
        if self._store is None:
            return
        try:
            self._store.refresh(force=True)
        except Exception as exc:
            log.warning("could not reload the index after a failed write: %s", exc)

    def follow(self, must_load: bool = False) -> bool:
        """Switch to a newer generation saved by another process, if any (cheap otherwise);
        `must_load`: raise when it does not load, instead of keeping the one held."""
        if self._store is None or not self._store.refresh(must_load=must_load):
            return False
        with self._lock:
            self._snapshot = None
            self._generation += 1
        return True

    def snapshot(self, build: Callable[[], T]) -> T:
        """The current snapshot, built by `build()` (under the lock) when there is none."""
        self.follow()
        held = self._snapshot
        if held is not None and held[0] == self._generation:
            return held[1]
        with self._lock:
            held = self._snapshot
            if held is None or held[0] != self._generation:
                held = (self._generation, build())
                self._snapshot = held
            return held[1]

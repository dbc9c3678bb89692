"""Following saves made elsewhere: another process (or another store object on the same files)
may commit a newer generation of a file store's index; `refresh` loads it, cheaply.

A mixin of BaseVectorStore: it uses the store's `_files` (GenerationalFiles, or None in memory
only), `_lock`, `load()` and `_clear()`, and keeps `_generation` (the generation held, set by
`load` and `save`) and `_checked` (the manifest fingerprint last looked at).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.domain.errors import IndexNotReady, ModelMismatch
from app.infrastructure.files import GenerationalFiles

logger = logging.getLogger(__name__)


class FollowsSaves:
    _files: GenerationalFiles | None
    _lock: threading.RLock
    _generation: int
    _checked: Any
    _stamp: str | None
    _dim: int | None

    def load(self) -> bool:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def refresh(self, force: bool = False) -> bool:
        """Load the newest saved generation when another process (or another store object) saved
        one since this store last loaded or saved; with `force`, also drop unsaved changes.
        Cheap when nothing changed: one `stat` of the manifest. True when it reloaded."""
        if self._files is None:
            return False
        with self._lock:
            seen = self._files.signature()
            if seen == self._checked and not force:
                return False
            self._checked = seen
            try:
                manifest = self._files.read()
                newest = manifest.generation if manifest is not None else 0
                if newest == self._generation and not force:
                    return False
                if manifest is None:
                    self._clear()
                    self._stamp, self._dim, self._generation = None, None, 0
                    return True
                return self.load()
            except (OSError, IndexNotReady, ModelMismatch) as exc:  # a rebuild replaces it
                logger.warning("warning: kept the index in memory: %s", exc)
                return False

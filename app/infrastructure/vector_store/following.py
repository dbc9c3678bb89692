"""Following saves made elsewhere: another process (or another store object on the same files)
may commit a newer generation of a file store's index; `refresh` loads it, cheaply.

A mixin of BaseVectorStore: it uses the store's `_files` (GenerationalFiles, or None in memory
only), `_lock`, `load()` and `_clear()`, and keeps `_generation` (the generation held, set by
`load` and `save`), `_checked` (the manifest fingerprint last looked at) and `_failed` (whether the
last load of the saved index failed).

A failed load leaves what memory holds as it was (BaseVectorStore swaps only a whole loaded
generation in). Readers then keep serving it, with a warning, and try again when the manifest
changes (never by themselves otherwise: a writer of this process may be changing what memory
holds, and only the writer lock keeps the manifest still meanwhile). A writer (`must_load`, at
the start of its change) always tries again, and when the newest saved generation still does not
load it gets BackendUnavailable: saving its change on top of an older generation would drop the
vectors of the newer one. A writer's successful load serves the readers of its process too.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.domain.errors import BackendUnavailable, IndexNotReady, ModelMismatch
from app.infrastructure.files import GenerationalFiles

logger = logging.getLogger(__name__)


class FollowsSaves:
    _files: GenerationalFiles | None
    _lock: threading.RLock
    _generation: int
    _checked: Any
    _failed: bool
    _stamp: str | None
    _dim: int | None

    def load(self) -> bool:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError

    def refresh(self, force: bool = False, must_load: bool = False) -> bool:
        """Load the newest saved generation when another process (or another store object) saved
        one since this store last loaded or saved; with `force`, also drop unsaved changes.
        Cheap when nothing changed: one `stat` of the manifest. True when it reloaded.
        With `must_load` (a writer), a saved index that cannot be loaded raises
        BackendUnavailable instead of keeping what memory holds."""
        files = self._files
        if files is None:
            return False
        with self._lock:
            seen = files.signature()
            retry = must_load and self._failed
            if seen == self._checked and not (force or retry):
                return False
            self._checked = seen
            try:
                reloaded = self._reload(files, force or retry)
            except (OSError, IndexNotReady, ModelMismatch) as exc:  # a rebuild --full replaces it
                self._failed = True
                if must_load:
                    raise BackendUnavailable(
                        f"the saved index in {files.directory} could not be loaded "
                        f"({exc.__cause__ or exc}), so nothing was changed (saving over it would "
                        "drop its vectors): try again; if it keeps failing, run `rebuild --full`"
                    ) from exc
                held = f"generation {self._generation}" if self._generation else "none saved"
                logger.warning("warning: kept the index held in memory (%s): %s", held, exc)
                return False
            self._failed = False
            return reloaded

    def _reload(self, files: GenerationalFiles, force: bool) -> bool:
        manifest = files.read()
        newest = manifest.generation if manifest is not None else 0
        if newest == self._generation and not force:
            return False
        if manifest is None:
            self._clear()
            self._stamp, self._dim, self._generation = None, None, 0
            return True
        return self.load()

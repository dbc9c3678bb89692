"""One lazy loader for every model: load once, on first use, behind a lock (like Immich's
`InferenceModel.load()`). The adapters (embedding models, detector, background removal) hold one
`Lazy` per heavy thing instead of writing the double-checked lock themselves."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """`get()` returns the value `load()` made, calling `load` once even when many threads ask.

    A failure is raised to every caller; with `remember_failure` the first failure is raised again
    without calling `load` (for loads that would retry a slow download per image).
    `reset()` forgets the value (and a remembered failure); the next `get()` loads again.
    """

    def __init__(self, load: Callable[[], T], *, remember_failure: bool = False) -> None:
        self._load = load
        self._remember_failure = remember_failure
        self._lock = threading.Lock()
        self._value: T | None = None
        self._failure: BaseException | None = None

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        value = self._value
        if value is not None:
            return value
        with self._lock:
            if self._value is None:
                if self._failure is not None:
                    raise self._failure
                try:
                    self._value = self._load()
                except Exception as error:
                    if self._remember_failure:
                        self._failure = error
                    raise
            return self._value

    def peek(self) -> T | None:
        """The value if it is loaded, else None (never loads)."""
        return self._value

    def reset(self) -> None:
        with self._lock:
            self._value = None
            self._failure = None

"""Progress reporting seam: front doors pass a tqdm-like factory, services call it."""

from __future__ import annotations

from typing import Any, Protocol


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> Any: ...

    def close(self) -> None: ...


class ProgressFactory(Protocol):
    def __call__(self, *, total: int, desc: str) -> ProgressBar: ...


class _NullBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def no_progress(*, total: int, desc: str) -> ProgressBar:
    """A factory whose bars show nothing (the default for library use and tests)."""
    return _NullBar()

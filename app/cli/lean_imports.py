"""Import a module without the optional integrations it would pull in when they are installed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hidden_modules(*names: str) -> Iterator[None]:
    """Inside the block, importing any of `names` (top-level packages not imported yet) raises
    ImportError, as if it were not installed; afterwards they import normally. For libraries that
    import extras inside `try: ... except ImportError` at import time. Single-threaded start-up
    only: another thread importing one of them meanwhile would fail."""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not found"
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]

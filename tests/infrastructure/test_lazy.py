"""The one lazy loader every model adapter uses."""

from __future__ import annotations

import threading
import time

import pytest

from app.infrastructure.lazy import Lazy


def test_many_threads_load_once_and_share_the_value() -> None:
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        time.sleep(0.05)  # long enough for every thread to arrive while loading
        return object()

    lazy: Lazy[object] = Lazy(load)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(lazy.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len(seen) == 8 and all(value is seen[0] for value in seen)
    assert lazy.loaded and lazy.peek() is seen[0]


def test_reset_forgets_the_value_and_the_next_get_loads_again() -> None:
    counter = iter(range(10))
    lazy = Lazy(lambda: next(counter) + 1)
    assert lazy.peek() is None and not lazy.loaded
    assert lazy.get() == 1 and lazy.get() == 1
    lazy.reset()
    assert not lazy.loaded
    assert lazy.get() == 2


def test_a_failure_is_retried_unless_remembered() -> None:
    attempts: list[int] = []

    def failing() -> int:
        attempts.append(1)
        raise OSError("download failed")

    retrying = Lazy(failing)
    for _ in range(2):
        with pytest.raises(OSError):
            retrying.get()
    assert len(attempts) == 2

    attempts.clear()
    remembering = Lazy(failing, remember_failure=True)
    for _ in range(3):
        with pytest.raises(OSError, match="download failed"):
            remembering.get()
    assert len(attempts) == 1
    remembering.reset()
    with pytest.raises(OSError):
        remembering.get()
    assert len(attempts) == 2

"""Port: a bounded key/value cache (query embeddings and other recomputable values)."""

from __future__ import annotations

from typing import Any, Protocol


class Cache(Protocol):
    """Contract.

    - `get` returns None for a missing key; `put` stores a value, evicting the least recently
      used entry when the bound is reached; `get` counts as a use.
    - `keys()` lists keys, most recently used last. `clear()` empties it and returns how many
      entries were dropped. Thread-safe.
    """

    max_entries: int

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...

    def keys(self) -> list[str]: ...

    def clear(self) -> int: ...

    def __len__(self) -> int: ...

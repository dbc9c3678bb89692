"""Port: where the labels and prompts for zero-shot classification come from."""

from __future__ import annotations

from typing import Protocol

from app.domain.labels import LabelSet


class LabelSource(Protocol):
    """Contract.

    - `load()` returns the current LabelSet. It re-reads the source when it changed since the last
      call (an edited file takes effect without a restart), and is cheap otherwise.
    - A missing source raises NotFound; a malformed one raises ConfigError in one line naming the
      file and the problem (e.g. `data/labels.yaml: categories.shoes.attributes: unknown
      attribute 'colour'`). `location` names the source for messages.
    """

    location: str

    def load(self) -> LabelSet: ...

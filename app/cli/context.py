"""What a command handler gets: the container (built lazily) and where to write."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TextIO

from app.cli.lean_imports import hidden_modules
from app.domain.images import ImageInput

if TYPE_CHECKING:
    from app.container import Container
    from app.services.feedback import Target


# dependency-injector's wiring module imports FastAPI, Starlette and Werkzeug when installed, for
# the markers of `container.wire()`, which this project does not use: a command line skips them
# (~0.2 s of every command's start)
WIRING_EXTRAS = ("fastapi", "starlette", "werkzeug", "fast_depends")


@dataclass(frozen=True)
class LastResult:
    """What `good N` / `bad N` refer to: the last query or classify answer in the REPL."""

    query: ImageInput
    ranked: list[Target]  # rank 1 first


@dataclass
class CliContext:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    interactive: bool = False
    container_override: Container | None = None
    last: LastResult | None = None

    @cached_property
    def container(self) -> Container:
        if self.container_override is not None:
            return self.container_override
        with hidden_modules(*WIRING_EXTRAS):
            import dependency_injector.containers  # noqa: F401
        from app.cli.progress import tqdm_progress
        from app.container import build_container

        container = build_container()
        container.progress.override(tqdm_progress(self.err))
        return container

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def warn(self, text: str) -> None:
        print(text, file=self.err)

"""Port: durable copies of the images the gallery keeps itself (examples added by the class
commands, uploads, object crops, kept feedback queries), content-addressed per class.

Contract:
- `store(class_name, image)` keeps a copy and says where; the same bytes in the same class are one
  copy (`created` False the second time). An image over the size limit or that cannot be read
  raises ImageError naming it.
- `store_all` stores each image; the ones that fail are returned as skipped, never raised. All or
  nothing on a full disk: room is checked first, and when a copy still fails the copies it made
  are deleted before the error propagates.
- `delete(paths)` removes copies, only ever its own (other paths are left alone); gone ones are
  fine; a class left empty goes too. `keep_newest(class_name, keep)` deletes all but the `keep`
  newest copies of a class and returns what it deleted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from app.domain.images import ImageInput
from app.domain.models import SkippedFile, StoredExample


class ExampleStore(Protocol):
    def store_all(
        self, class_name: str, images: list[ImageInput]
    ) -> tuple[list[StoredExample], list[SkippedFile]]: ...

    def store(self, class_name: str, image: ImageInput) -> StoredExample: ...

    def delete(self, paths: list[str]) -> None: ...

    def keep_newest(self, class_name: str, keep: int) -> list[Path]: ...

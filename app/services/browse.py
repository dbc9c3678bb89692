"""Use case: look at the gallery's images by id (lists per class and thumbnails), never by path.

Only images the repository knows are served, and only when their file lies inside one of the
allowed folders (the catalogue and the examples folder): a row can never make the server read
an arbitrary file. Paths are compared as written (not resolved), so a catalogue of symlinks
still works.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.domain.errors import ImageError, ImageFailure, NotFound
from app.domain.models import ImageRecord
from app.interfaces.repository import Repository


class Thumbnailer(Protocol):
    media_type: str

    def render(self, path: Path, size: int) -> bytes: ...


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    media_type: str
    etag: str


@dataclass(frozen=True)
class ImagePage:
    total: int
    images: list[ImageRecord]


@dataclass(eq=False)
class BrowseService:
    repository: Repository
    roots: list[Path]
    thumbnailer: Thumbnailer

    def __post_init__(self) -> None:
        self.roots = [os.path.abspath(r) for r in self.roots]

    def images(self, product_id: str, limit: int) -> ImagePage:
        """The first `limit` images of a product (class), in id order, and how many there are."""
        rows = self.repository.list_images(product_id)
        return ImagePage(total=len(rows), images=rows[:limit])

    def etag(self, image_id: int, size: int) -> str:
        """The thumbnail's entity tag (changes when the image's content does); NotFound."""
        return _etag(self._record(image_id), size)

    def thumbnail(self, image_id: int, size: int) -> Thumbnail:
        """The image shrunk to fit `size`; NotFound also when its file has gone. Errors name
        the image by id, never by its path on the server."""
        record = self._record(image_id)
        try:
            data = self.thumbnailer.render(Path(record.path), size)
        except ImageError as exc:
            if exc.kind == ImageFailure.UNREADABLE:
                raise NotFound(f"image {image_id}: its file cannot be read ({exc.reason})") from exc
            raise ImageError(f"image {image_id}", exc.reason, exc.kind) from exc
        return Thumbnail(data, self.thumbnailer.media_type, _etag(record, size))

    def _record(self, image_id: int) -> ImageRecord:
        record = self.repository.get_images([image_id]).get(image_id)
        if record is None or not self._allowed(record.path):
            raise NotFound(f"no image with id {image_id}")
        return record

    def _allowed(self, path: str) -> bool:
        full = os.path.abspath(path)
        return any(os.path.commonpath([full, root]) == root for root in self.roots)


def _etag(record: ImageRecord, size: int) -> str:
    return f'"{record.content_hash[:32]}-{size}"'

"""An image to embed: a file on disk, or bytes received (an upload, a cut-out), with its name
and content digest. Front doors build it; every use case takes it, so nothing downstream asks
"is this a path or an upload?".

Reading its own bytes is this value's one piece of I/O (as with `pathlib.Path`): the digest is
the blake2b-128 of the content, computed once on first use (or given when already known, e.g.
by the catalogue scan).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20
IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".jfif"}
)


def bytes_hash(data: bytes) -> str:
    """blake2b-128 of the bytes: the content hash of every image the gallery holds."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def content_hash(path: Path) -> str:
    """blake2b-128 of the file's bytes (read in chunks); OSError when it cannot be read."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ImageInput:
    """`name` names the image in messages and results (a file's path, an upload's file name)
    and gives its extension; exactly one of `path`, `data` and `stream` holds the image. Build
    it with `ImageInput.file(path)`, `ImageInput.upload(name, data)` or
    `ImageInput.spooled(name, stream)`. A file may name a folder, which the use cases expand to
    the images under it. A spooled upload stays where the web server put it while the request
    arrived (in memory up to UPLOAD_SPOOL_BYTES, else a temporary file) and is read when
    needed, so a request's uploads are never all read into memory at once."""

    name: str
    path: Path | None = None
    data: bytes | None = field(default=None, repr=False)
    known_digest: str | None = field(default=None, compare=False, repr=False)
    stream: BinaryIO | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if [self.path, self.data, self.stream].count(None) != 2:
            raise ValueError(
                "an image to embed is a file path, bytes or a stream, exactly one of them"
            )

    @classmethod
    def file(cls, path: str | Path, digest: str | None = None) -> ImageInput:
        return cls(str(path), path=Path(path), known_digest=digest)

    @classmethod
    def upload(cls, name: str, data: bytes) -> ImageInput:
        return cls(name, data=data)

    @classmethod
    def spooled(cls, name: str, stream: BinaryIO) -> ImageInput:
        return cls(name, stream=stream)

    @classmethod
    def files(cls, paths: Iterable[str | Path]) -> list[ImageInput]:
        return [cls.file(path) for path in paths]

    @property
    def content(self) -> Path | bytes:
        """What a decoder reads: the file, or the bytes (a spooled upload's, read now)."""
        return self.path if self.path is not None else self.read()

    @cached_property
    def digest(self) -> str:
        """The content hash; OSError when the file cannot be read."""
        if self.known_digest is not None:
            return self.known_digest
        if self.stream is not None:
            return _stream_hash(self.opened())
        return content_hash(self.path) if self.data is None else bytes_hash(self.data)

    def read(self) -> bytes:
        """The image's bytes; OSError when the file cannot be read."""
        if self.stream is not None:
            return self.opened().read()
        return self.data if self.data is not None else self.path.read_bytes()

    def size(self) -> int:
        """Size in bytes; OSError when the file cannot be read."""
        if self.stream is not None:
            return self.stream.seek(0, io.SEEK_END)
        return len(self.data) if self.data is not None else self.path.stat().st_size

    def opened(self) -> BinaryIO:
        """The bytes as a file object at its start: a spooled upload's own stream (left open),
        the bytes in memory, or the file newly opened (which the caller closes)."""
        if self.stream is not None:
            self.stream.seek(0)
            return self.stream
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")


def _stream_hash(stream: BinaryIO) -> str:
    digest = hashlib.blake2b(digest_size=16)
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()

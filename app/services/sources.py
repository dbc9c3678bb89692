"""One image source: a file path or an upload (bytes + name). Every place that must tell the two
apart (naming, hashing, sizing, reading, decoding, expanding folders) goes through this module."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from app.domain.models import ImageUpload
from app.services.scanning import bytes_hash, content_hash, expand_paths

Source = Path | ImageUpload


def source_name(source: Source) -> str:
    """How an image is named in messages: its path, or the upload's name."""
    return source.name if isinstance(source, ImageUpload) else str(source)


def source_digest(source: Source) -> str:
    """The content hash (blake2b-128) of the image's bytes; OSError when a file cannot be read."""
    return bytes_hash(source.data) if isinstance(source, ImageUpload) else content_hash(source)


def source_size(source: Source) -> int:
    """Size in bytes; OSError when a file cannot be read."""
    return len(source.data) if isinstance(source, ImageUpload) else source.stat().st_size


def source_bytes(source: Source) -> bytes:
    """The image's bytes; OSError when a file cannot be read."""
    return source.data if isinstance(source, ImageUpload) else source.read_bytes()


def decode_input(source: Source) -> tuple[Path | bytes, str | None]:
    """What `ImagePreprocessor.prepare(source, name)` takes for this image."""
    return (source.data, source.name) if isinstance(source, ImageUpload) else (source, None)


def expand_sources(sources: Iterable[Source]) -> list[Source]:
    """Files stay as given, folders expand to the image files under them, uploads pass through."""
    out: list[Source] = []
    for source in sources:
        out.extend([source] if isinstance(source, ImageUpload) else expand_paths([source]))
    return out

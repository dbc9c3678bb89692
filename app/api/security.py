"""API key on mutating endpoints (when API_KEY is set) and safe reading of uploads."""

from __future__ import annotations

import hmac
import os
from typing import Annotated, BinaryIO

from fastapi import HTTPException, Request, Security, UploadFile, status
from fastapi.security import APIKeyHeader

from app.domain.images import ImageInput

# declared in the OpenAPI schema (securitySchemes.ApiKey) on every route that needs it
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    scheme_name="ApiKey",
    description="the API_KEY setting; required on mutating endpoints when it is set",
    auto_error=False,
)


def require_api_key(
    request: Request, x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None
) -> None:
    """401 unless the X-API-Key header matches API_KEY (no key configured: open)."""
    expected = request.app.state.container.settings().api_key
    if not expected:
        return
    if x_api_key is None or not hmac.compare_digest(x_api_key.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong X-API-Key")


def read_upload(upload: UploadFile, limit: int) -> ImageInput:
    """The upload, left where the server spooled it while the request arrived (in memory up to
    UPLOAD_SPOOL_BYTES, else a temporary file): it is read later, one image at a time, never
    all of a request's uploads at once. Over `limit` bytes: 413; empty: 400.

    The declared content type is not trusted: the preprocessor decodes the bytes later and
    rejects what is not an image (415), too large in pixels (413) or corrupt (400).
    """
    name = safe_name(upload.filename)
    size = upload.file.seek(0, os.SEEK_END)
    upload.file.seek(0)
    if size > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"{name}: too large: over {limit} bytes"
        )
    if size == 0:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"{name}: empty file")
    return ImageInput.spooled(name, upload.file)


def read_uploads(uploads: list[UploadFile], limit: int) -> list[ImageInput]:
    if not uploads:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "no file uploaded")
    return [read_upload(u, limit) for u in uploads]


def check_request_pixels(uploads: list[ImageInput], limit: int) -> None:
    """413 when the images of one request declare more than `limit` pixels together (headers
    only: nothing is decoded). What is not an image counts 0; decoding rejects it later."""
    total = sum(declared_pixels(u.opened()) for u in uploads)
    if total > limit:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"too large: {len(uploads)} images declare {total} pixels together > limit {limit} "
            "(MAX_REQUEST_PIXELS): send fewer or smaller images per request",
        )


def declared_pixels(stream: BinaryIO) -> int:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(stream) as image:  # reads the header only (the stream stays open)
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return 0
    return width * height


def safe_name(filename: str | None) -> str:
    """A display name for messages: the last path part, printable characters, bounded."""
    base = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable())[:100]
    return cleaned or "upload"

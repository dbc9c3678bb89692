"""Request-scoped access to the container, settings and uploads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, File, Request, UploadFile

from app.api.security import check_request_pixels, read_upload, read_uploads
from app.container import Container
from app.domain.images import ImageInput
from app.heap import release_memory


def get_container(request: Request) -> Container:
    return request.app.state.container


def upload_limit(request: Request) -> int:
    return request.app.state.container.settings().max_upload_bytes


def one_image(
    file: Annotated[UploadFile, File(description="an image file")],
    limit: Annotated[int, Depends(upload_limit)],
) -> ImageInput:
    return read_upload(file, limit)


def pixel_limit(request: Request) -> int:
    return request.app.state.container.settings().max_request_pixels


def many_images(
    files: Annotated[list[UploadFile], File(description="one or more image files")],
    limit: Annotated[int, Depends(upload_limit)],
    pixels: Annotated[int, Depends(pixel_limit)],
) -> Iterator[list[ImageInput]]:
    """The request's uploads, still spooled (read one at a time later); once the request is
    answered, the memory its decoding used goes back to the system."""
    uploads = read_uploads(files, limit)
    check_request_pixels(uploads, pixels)
    try:
        yield uploads
    finally:
        release_memory()


ContainerDep = Annotated[Container, Depends(get_container)]
ImageDep = Annotated[ImageInput, Depends(one_image)]
ImagesDep = Annotated[list[ImageInput], Depends(many_images)]

"""Domain errors -> HTTP status codes and a JSON body, in one place.

Every error, whatever its status, answers the same shape (`ErrorBody`, in the OpenAPI schema):
`{"status": "error", "code": 404, "error": "NotFound", "message": "..."}`. Messages name what to
do in HTTP terms: a hint written for the command line (`rebuild`, `class update NAME FILES...`)
becomes its endpoint (`POST /rebuild`, `POST /class/update/NAME`).
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.disk_space import is_no_space, no_space_message
from app.domain.errors import (
    BackendUnavailable,
    ConfigError,
    Conflict,
    ImageError,
    ImageFailure,
    ImgRecogError,
    IndexNotReady,
    InvalidInput,
    ModelMismatch,
    NotFound,
    StorageFull,
    UnsupportedOperation,
    VerificationFailed,
)

logger = logging.getLogger("app.api")

_STATUS: list[tuple[type[ImgRecogError], int]] = [
    (NotFound, 404),
    (InvalidInput, 422),
    (UnsupportedOperation, 400),
    (Conflict, 409),
    (IndexNotReady, 409),
    (ModelMismatch, 409),
    (BackendUnavailable, 503),
    (VerificationFailed, 500),
    (StorageFull, 507),
    (ConfigError, 500),
]


_IMAGE_STATUS: dict[ImageFailure, int] = {
    ImageFailure.TOO_LARGE: 413,
    ImageFailure.NOT_AN_IMAGE: 415,
    ImageFailure.UNSUPPORTED: 415,
}


def status_for(exc: ImgRecogError) -> int:
    if isinstance(exc, ImageError):
        return image_status(exc.kind)
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def image_status(kind: ImageFailure | str) -> int:
    """413 for too large, 415 for not an image / unsupported mode, 400 for the rest."""
    return _IMAGE_STATUS.get(ImageFailure(kind), 400)


class ErrorBody(BaseModel):
    """The answer of every failed request."""

    status: Literal["error"] = "error"
    code: int = Field(description="the HTTP status again")
    error: str = Field(description="what kind of error: NotFound, Conflict, ImageError, ...")
    message: str = Field(description="one line for a person: what is wrong and what to do")


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": HTTPStatus(code).phrase}
    for code in (400, 401, 404, 409, 413, 415, 422, 500, 503, 507)
}

# hints written for the command line, and what an HTTP client does instead
_HTTP_HINTS = [
    (re.compile(r"`rebuild --full`"), "`POST /rebuild?full=true`"),
    (re.compile(r"`rebuild`"), "`POST /rebuild`"),
    (re.compile(r"`class update (\S+) FILES\.\.\.`"), r"`POST /class/update/\1`"),
    (re.compile(r"`class add`"), "`POST /class/add/{name}`"),
    (re.compile(r"`--replace`"), "`append=false`"),
]


def for_http(message: str) -> str:
    """`message` with its command-line hints said as the endpoints that do the same."""
    for pattern, replacement in _HTTP_HINTS:
        message = pattern.sub(replacement, message)
    return message


def error_body(
    status: int, message: str, error: str | None = None, **extra: object
) -> dict[str, object]:
    name = error or HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    return ErrorBody(code=status, error=name, message=for_http(message)).model_dump() | extra


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ImgRecogError)
    code = status_for(exc)
    return JSONResponse(error_body(code, str(exc), error=type(exc).__name__), status_code=code)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    body = error_body(exc.status_code, str(exc.detail))
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid request')}" if where else "invalid request"
    return JSONResponse(error_body(422, message, "InvalidInput"), status_code=422)


async def _os_error(request: Request, exc: Exception) -> JSONResponse:
    """A full disk is 507 naming the device and the file; other OS errors are logged, and the
    answer is a JSON 500 that shows no server paths."""
    assert isinstance(exc, OSError)
    if is_no_space(exc):
        return await _domain_error(request, StorageFull(no_space_message(exc.filename)))
    logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    body = error_body(500, f"internal error ({type(exc).__name__}); see the server log")
    return JSONResponse(body, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ImgRecogError, _domain_error)
    app.add_exception_handler(OSError, _os_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

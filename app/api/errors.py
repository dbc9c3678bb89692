"""Domain errors -> HTTP status codes and a JSON body, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain.errors import (
    BackendUnavailable,
    ConfigError,
    Conflict,
    ImageError,
    ImgRecogError,
    IndexNotReady,
    InvalidInput,
    ModelMismatch,
    NotFound,
    UnsupportedOperation,
)

_STATUS: list[tuple[type[ImgRecogError], int]] = [
    (NotFound, 404),
    (InvalidInput, 422),
    (UnsupportedOperation, 400),
    (Conflict, 409),
    (IndexNotReady, 409),
    (ModelMismatch, 409),
    (BackendUnavailable, 503),
    (ConfigError, 500),
]


def status_for(exc: ImgRecogError) -> int:
    if isinstance(exc, ImageError):
        return image_status(exc.reason)
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def image_status(reason: str) -> int:
    """413 for too large, 415 for not an image / unsupported mode, 400 for the rest."""
    if reason.startswith("too large"):
        return 413
    if reason.startswith(("not an image", "unsupported mode")):
        return 415
    return 400


def error_body(status: int, message: str, **extra: object) -> dict[str, object]:
    return {"status": "error", "code": status, "message": message, **extra}


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
    return JSONResponse(error_body(422, message), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ImgRecogError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

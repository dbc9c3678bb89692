"""The small family of errors that services raise; front doors map them to messages and codes."""

from __future__ import annotations

from enum import StrEnum


class ImgRecogError(Exception):
    """Base of every error img-recog reports to a user as one line."""

    exit_code = 1


class ConfigError(ImgRecogError):
    """A setting is missing or invalid."""

    exit_code = 2


class ImageFailure(StrEnum):
    """Why a file could not be used as an image; front doors pick a status from this, never
    from the wording of the reason."""

    TOO_LARGE = "too_large"  # bytes or pixels over the limit, decompression bomb
    NOT_AN_IMAGE = "not_an_image"  # no known image format
    UNSUPPORTED = "unsupported"  # an image, but a mode or format we cannot convert
    CORRUPT = "corrupt"  # truncated or damaged image data, empty file
    UNREADABLE = "unreadable"  # the file cannot be read: missing, permission, directory, I/O
    UNUSABLE = "unusable"  # anything else (a name no database can hold, a query not kept)


class ImageError(ImgRecogError):
    """A file could not be used as an image (corrupt, truncated, not an image, too large, ...)."""

    def __init__(
        self, path: object, reason: str, kind: ImageFailure = ImageFailure.UNUSABLE
    ) -> None:
        self.path = str(path)
        self.reason = reason
        self.kind = ImageFailure(kind)
        super().__init__(f"{self.path}: {reason}")


class NotFound(ImgRecogError):
    """A file, class, product or record does not exist."""


class UnknownIds(NotFound, KeyError):
    """A vector store was asked for ids it does not hold (also a KeyError, as for a dict)."""

    __str__ = Exception.__str__  # KeyError would quote the message


class IndexNotReady(ImgRecogError):
    """There is no usable index yet (run `rebuild`)."""


class ModelMismatch(ImgRecogError):
    """Stored embeddings were made by another model or preprocessing than the current one."""


class BackendUnavailable(ImgRecogError):
    """A model, library or server that the configuration asks for cannot be used."""


class VerificationFailed(ImgRecogError):
    """A copy was written but does not read back the same (the source is left unchanged)."""


class UnsupportedOperation(ImgRecogError):
    """The configured model cannot do what was asked (e.g. text queries on an image-only model)."""


class InvalidInput(ImgRecogError):
    """A value given by the user is not acceptable (a class name, an id, a threshold)."""

    exit_code = 2


class Conflict(ImgRecogError):
    """The request does not fit the current state (e.g. adding a class that already exists)."""


class StorageFull(ImgRecogError):
    """A disk or quota is full: the operation changed nothing; free space and run it again."""

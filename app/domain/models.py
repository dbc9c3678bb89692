"""Plain data that flows between layers. No behaviour beyond small derived properties."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Generic, TypeVar

from app.domain.errors import ImageError, ImageFailure
from app.domain.images import ImageInput

T = TypeVar("T")

CATALOGUE = "catalogue"  # a row managed by `rebuild` (a photo under the products folder)
EXAMPLE = (
    "example"  # a row added at run time (`class add` / `class update`), never touched by rebuild
)
CROP = "crop"  # an object cut out of a gallery image by `segment` (has parent_id and box)
UPLOAD = "upload"  # a photo sent to POST /upload (or cut from one): searchable, never a class
SOURCES = (CATALOGUE, EXAMPLE, CROP, UPLOAD)
LABELLED = (CATALOGUE, EXAMPLE, CROP)  # the sources that classification by retrieval learns from
UPLOADS = "uploads"  # the product id of uploads sent without a class


@dataclass(frozen=True)
class ImageRecord:
    """One gallery image as the repository stores it.

    `product_id` is the name of the folder that directly holds the file (the class name in
    classification by retrieval). `embedding_model` is the stamp (model id + preprocessing) of the
    embedding stored for it, or None when not embedded yet. `source` says who manages the row:
    `rebuild` ("catalogue"), the class commands ("example") or `segment` ("crop").
    """

    path: str
    product_id: str
    content_hash: str
    size_bytes: int
    embedding_model: str | None = None
    id: int | None = None
    source: str = CATALOGUE
    parent_id: int | None = None  # for an object crop: the image it was cut from
    box: tuple[int, int, int, int] | None = None  # the crop in the parent: x0, y0, x1, y1
    folder: str | None = None  # catalogue files: the folder relative to the products folder
    mtime_ns: int | None = None  # catalogue files: the mtime when hashed (None: hash it again)

    def image(self) -> ImageInput:
        """Its file as an image to embed (the content hash already known)."""
        return ImageInput.file(self.path, self.content_hash)


@dataclass(frozen=True)
class ScannedFile:
    """A file found by scanning the catalogue folder."""

    path: str
    product_id: str
    content_hash: str
    size_bytes: int
    mtime_ns: int | None = None  # None: too recent to trust (changed within the clock's step)


@dataclass(frozen=True)
class SearchHit:
    rank: int
    score: float
    image_id: int
    product_id: str
    path: str
    parent_id: int | None = None
    box: tuple[int, int, int, int] | None = None
    # feedback re-ranking's change: hits are ordered by score + adjustment, `score` stays the
    # metric's own value (cosine similarity, or squared L2 distance)
    adjustment: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The one serialised shape of a hit (CLI --json, API, Python engine)."""
        body: dict[str, object] = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "image_id": self.image_id,
            "product_id": self.product_id,
            "path": self.path,
        }
        if self.box is not None:  # an object crop: which image it was cut from, and where
            body.update(parent_id=self.parent_id, box=list(self.box))
        if self.adjustment:  # feedback re-ranking moved it: ordered by score + adjustment
            body["adjustment"] = self.adjustment
        return body


@dataclass(frozen=True)
class QueryResult:
    """The top-K answer to one query (an image path or a text)."""

    query: str
    hits: list[SearchHit]
    cut: int = 0  # hits left out by a relevance cut-off (--min-score / --relative)


@dataclass(frozen=True)
class SkippedFile:
    """A file a batch job left out, with the reason a user reads and its kind."""

    path: str
    reason: str
    kind: ImageFailure = ImageFailure.UNUSABLE

    @classmethod
    def of(cls, error: ImageError, path: object | None = None) -> SkippedFile:
        """The skipped-file record of `error` (under another name when `path` is given)."""
        return cls(error.path if path is None else str(path), error.reason, error.kind)

    def error(self, suffix: str = "") -> ImageError:
        """This failure raised as an error (for front doors that were given one image)."""
        return ImageError(self.path, self.reason + suffix, self.kind)


def unreadable(path: object, exc: OSError) -> SkippedFile:
    """The skipped-file record of a file the OS would not let us read."""
    return SkippedFile(str(path), os_error_reason(exc), ImageFailure.UNREADABLE)


def os_error_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    return exc.strerror or type(exc).__name__


@dataclass
class Outcome(Generic[T]):
    """A batch job's result per usable image (in order) and the files it skipped, with why."""

    results: list[T] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


@dataclass(frozen=True)
class StoredExample:
    """A copy the gallery keeps of an image (see interfaces.examples.ExampleStore)."""

    path: Path
    content_hash: str
    size_bytes: int
    created: bool  # False when the same bytes were already stored for this class
    origin: str  # the file or upload name it was copied from


def first_failure(skipped: list[SkippedFile], context: str = "") -> ImageError:
    """The error a request answers with when none of its images could be used."""
    more = f" (and {len(skipped) - 1} more files)" if len(skipped) > 1 else ""
    return skipped[0].error(more + context)


@dataclass
class RebuildReport:
    scanned: int = 0
    embedded: int = 0
    unchanged: int = 0
    removed: int = 0
    excluded: int = 0  # files left out because `class remove` / `examples remove` removed them
    skipped: list[SkippedFile] = field(default_factory=list)
    seconds: float = 0.0
    model_stamp: str = ""

    @property
    def images_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class VectorPayload:
    """What a vector store may keep beside a vector, for filtering (stores without payload support
    ignore it: the repository stays the source of truth). `label` is a class name; `box` a crop
    (left, top, right, bottom) in pixels of the original image."""

    product_id: str | None = None
    label: str | None = None
    box: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class IndexInfo:
    """What a vector store says about itself."""

    kind: str
    size: int
    dim: int | None
    metric: str
    model_stamp: str | None
    bytes_on_disk: int = 0
    problem: str | None = None  # why the saved index could not be loaded (then it is empty)


@dataclass
class MigrationReport:
    """What `migrate` copied: image rows and facts, and/or vectors into `target_index`."""

    images: int = 0
    facts: int = 0
    vectors: int = 0
    model_stamp: str | None = None
    target_index: IndexInfo | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class CatalogueStats:
    images: int
    products: int
    images_per_product: dict[str, int]
    index: IndexInfo
    model_stamp: str
    last_rebuild: datetime | None
    indexed: int = 0  # images with a vector from the index's model (searchable)
    pending: int = 0  # images waiting for `rebuild` (no vector yet, e.g. after an interruption)
    text_search: bool = False  # whether the current model can search by text


@dataclass(frozen=True)
class CacheEntry:
    key: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class Crop:
    """An object found in an image: where (x0, y0, x1, y1 in pixels) and the cut-out itself."""

    box: tuple[int, int, int, int]
    image: ImageInput  # bytes (an encoded PNG/JPEG of the cut-out)
    score: float = 1.0

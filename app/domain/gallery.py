"""The gallery of labelled examples that classification by retrieval compares queries with.

The gallery is the repository's images (one row per example, `product_id` = class name) plus
their vectors. Rows come from the catalogue folder (`rebuild`) or are added at run time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.domain.errors import Conflict, ImgRecogError, InvalidInput, NotFound
from app.domain.models import CATALOGUE, ImageRecord, SkippedFile, first_failure

if TYPE_CHECKING:  # numpy stays out of `--help`
    from app.domain.calibration import CalibrationRecord

MAX_CLASS_NAME = 100
MAX_NAME_BYTES = 255  # a folder name on common file systems (ext4, XFS, APFS, NTFS in UTF-16)
# Invisible or direction-changing characters: control (Cc), format (Cf: zero-width, bidi
# overrides and isolates, BOM, soft hyphen), surrogate (Cs), private use (Co), line/paragraph
# separators (Zl, Zp). A name that shows one thing and stores another is refused.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})


def normalise_name(name: str) -> str:
    """The stored form of a class / product name: Unicode NFC, so that "café" typed with a
    combining accent and with a precomposed "é" is one class."""
    return unicodedata.normalize("NFC", name)


def validate_class_name(name: str, what: str = "class name") -> str:
    """`name` in NFC when it can name a class (and a folder), else InvalidInput saying why.
    The same rule holds for every product id a user gives (feedback included)."""
    name = normalise_name(name)
    problem = _class_name_problem(name)
    if problem:
        raise InvalidInput(f"invalid {what} {_shown(name)}: {problem}")
    return name


def _shown(name: str) -> str:
    """The name for a message: escaped (hidden characters visible) and bounded."""
    text = ascii(name) if _has_hidden(name) else repr(name)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _has_hidden(name: str) -> bool:
    return any(unicodedata.category(c) in _HIDDEN_CATEGORIES for c in name)


def _too_many_bytes(name: str) -> bool:
    return len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES


_NAME_RULES = (
    (lambda n: not n.strip(), "must not be empty"),
    (lambda n: len(n) > MAX_CLASS_NAME, f"longer than {MAX_CLASS_NAME} characters"),
    (_too_many_bytes, f"longer than {MAX_NAME_BYTES} bytes in UTF-8 (a folder name's limit)"),
    (lambda n: n != n.strip(), "must not start or end with spaces"),
    (lambda n: n in (".", ".."), "'.' and '..' are not allowed"),
    (lambda n: "/" in n or "\\" in n, "must not contain path separators"),
    (
        _has_hidden,
        "must not contain control characters or invisible / text-direction marks",
    ),
)


MAX_ID = 2**63 - 1


MAX_IDS_PER_CALL = 10_000  # ids one `examples remove` / DELETE /examples may name
LISTED_IN_ERRORS = 10  # ids or names a message lists before "... and N more"


def validate_example_ids(ids) -> list[int]:
    """The distinct ids, in order, when every one is a positive 64-bit integer (and there are
    at most MAX_IDS_PER_CALL of them)."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        raise InvalidInput("no example ids given")
    if len(wanted) > MAX_IDS_PER_CALL:
        raise InvalidInput(f"{len(wanted)} ids given; at most {MAX_IDS_PER_CALL} per call")
    bad = [i for i in wanted if not 1 <= i <= MAX_ID]
    if bad:
        raise InvalidInput(f"invalid example id {listed_ids(bad)}: ids are positive integers")
    return wanted


def listed_ids(ids: list[int]) -> str:
    """`1, 2, 3`, or past LISTED_IN_ERRORS the first ones and how many more."""
    shown = ", ".join(str(i) for i in ids[:LISTED_IN_ERRORS])
    more = len(ids) - LISTED_IN_ERRORS
    return f"{shown} and {more} more" if more > 0 else shown


def _class_name_problem(name: str) -> str | None:
    return next((problem for broken, problem in _NAME_RULES if broken(name)), None)


@dataclass(frozen=True)
class Removals:
    """What `class remove` / `examples remove` took out, so that `rebuild` leaves it out."""

    classes: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()

    def excludes(self, path: str, class_name: str) -> bool:
        return class_name in self.classes or path in self.paths


@dataclass(frozen=True)
class ClassInfo:
    class_name: str
    catalogue: int
    examples: int

    @property
    def total(self) -> int:
        return self.catalogue + self.examples


@dataclass(frozen=True)
class GalleryInfo:
    """`class list`: the classes with their examples per source, and what made the vectors."""

    classes: list[ClassInfo]
    size: int  # vectors in the gallery
    model_stamp: str | None  # the gallery's (None when nothing was embedded yet)
    current_model: str
    calibration: list[CalibrationRecord] = field(default_factory=list)  # for the gallery's model


@dataclass
class GalleryChange:
    """What one class command did."""

    class_name: str
    added: list[ImageRecord] = field(default_factory=list)
    removed: list[ImageRecord] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    already_present: list[ImageRecord] = field(default_factory=list)  # same bytes, same class

    @property
    def stored(self) -> list[ImageRecord]:
        """The rows that now hold the images given: new ones, then those already there."""
        return self.added + self.already_present


# ---- what gallery changes answer when they cannot be made ----------------------------------


def unknown_class(class_name: str, names: list[str]) -> NotFound:
    shown = ", ".join(names[:LISTED_IN_ERRORS]) + (", ..." if len(names) > LISTED_IN_ERRORS else "")
    hint = f" (classes: {shown})" if names else " (the gallery is empty)"
    return NotFound(f"class {class_name!r} not found{hint}")


def existing_class(class_name: str) -> Conflict:
    return Conflict(
        f"class {class_name!r} already exists: use `class update {class_name} FILES...` "
        "to add examples (with `--replace` to replace them)"
    )


def no_usable_image(class_name: str, skipped: list[SkippedFile]) -> ImgRecogError:
    if not skipped:
        return InvalidInput(f"no images given for class {class_name!r}")
    return first_failure(skipped, f"; class {class_name!r} unchanged")


def live_rows(rows: list[ImageRecord]) -> list[ImageRecord]:
    """The rows that make a class exist: all but unstamped examples, which a change that failed
    before its commit (a full disk) may leave behind; adding the class again adopts them."""
    return [r for r in rows if r.embedding_model is not None or r.source == CATALOGUE]

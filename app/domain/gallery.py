"""The gallery of labelled examples that classification by retrieval compares queries with.

The gallery is the repository's images (one row per example, `product_id` = class name) plus
their vectors. Rows come from the catalogue folder (`rebuild`) or are added at run time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.domain.errors import InvalidInput
from app.domain.models import ImageRecord, SkippedFile

if TYPE_CHECKING:  # numpy stays out of `--help`
    from app.domain.calibration import CalibrationRecord

MAX_CLASS_NAME = 100


def validate_class_name(name: str) -> str:
    """`name` when it can name a class (and a folder), else InvalidInput saying why."""
    problem = _class_name_problem(name)
    if problem:
        raise InvalidInput(f"invalid class name {name!r}: {problem}")
    return name


_NAME_RULES = (
    (lambda n: not n.strip(), "must not be empty"),
    (lambda n: len(n) > MAX_CLASS_NAME, f"longer than {MAX_CLASS_NAME} characters"),
    (lambda n: n != n.strip(), "must not start or end with spaces"),
    (lambda n: n in (".", ".."), "'.' and '..' are not allowed"),
    (lambda n: "/" in n or "\\" in n, "must not contain path separators"),
    (
        lambda n: any(unicodedata.category(c) == "Cc" for c in n),
        "must not contain control characters",
    ),
)


MAX_ID = 2**63 - 1


def validate_example_ids(ids) -> list[int]:
    """The distinct ids, in order, when every one is a positive 64-bit integer."""
    wanted = list(dict.fromkeys(int(i) for i in ids))
    if not wanted:
        raise InvalidInput("no example ids given")
    bad = [str(i) for i in wanted if not 1 <= i <= MAX_ID]
    if bad:
        raise InvalidInput(f"invalid example id {', '.join(bad[:10])}: ids are positive integers")
    return wanted


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

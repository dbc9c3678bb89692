"""What zero-shot classification can answer: categories, their attributes, classes and prompts.

Read from an editable labels file (see data/labels.yaml); templates are already resolved here,
so a category or attribute carries exactly the templates its prompts are made from. A template
holds `{}` (the class phrase) and, for attributes, optionally `{category}` (the category phrase).
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORY = "category"


@dataclass(frozen=True)
class LabelClass:
    """A class name as answered, and the phrase put into prompts (e.g. "men" -> "men's")."""

    name: str
    phrase: str


@dataclass(frozen=True)
class Attribute:
    name: str
    classes: tuple[LabelClass, ...]
    templates: tuple[str, ...]

    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]


@dataclass(frozen=True)
class Category:
    name: str
    phrase: str
    templates: tuple[str, ...]
    attributes: tuple[Attribute, ...] = ()

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass(frozen=True)
class LabelSet:
    """Every category (with its attributes) of one labels file; `source` names the file."""

    categories: tuple[Category, ...]
    source: str = ""

    @property
    def category_names(self) -> list[str]:
        return [c.name for c in self.categories]

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


def category_prompts(labels: LabelSet) -> list[list[str]]:
    """Per category, its prompts: each of its templates filled with its phrase."""
    return [[t.format(c.phrase) for t in c.templates] for c in labels.categories]


def attribute_prompts(category: Category, attribute: Attribute) -> list[list[str]]:
    """Per class of the attribute, its prompts ("a photo of a {} {category}" -> "... red shoe")."""
    return [
        [t.format(cls.phrase, category=category.phrase) for t in attribute.templates]
        for cls in attribute.classes
    ]

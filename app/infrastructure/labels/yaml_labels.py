"""LabelSource from a YAML file the user edits (data/labels.yaml), re-read when it changes.

Layout (every key but `categories` optional):

    templates: ["a photo of a {}."]                   # prompts for the category; {} = its phrase
    attribute_templates: ["a photo of a {} {category}."]  # prompts for attributes
    attributes:                                        # shared, used by name in categories
      color: {classes: [red, blue]}
      gender:
        classes: {men: "men's", women: "women's"}     # name -> phrase in the prompts
        templates: ["a photo of a {} {category}."]     # overrides attribute_templates
    categories:
      shoes:
        phrase: pair of shoes           # default: the name
        templates: [...]                # overrides `templates` for this category
        attribute_templates: [...]      # overrides `attribute_templates` for its attributes
        attributes: [color, gender]     # or a mapping: name -> definition (null = the shared one)

A class list is a list of names, or a mapping name -> phrase put into the prompts.
"""

from __future__ import annotations

import os
import string
import threading
from pathlib import Path
from typing import Any

from app.domain.errors import ConfigError, NotFound
from app.domain.labels import Attribute, Category, LabelClass, LabelSet

DEFAULT_TEMPLATES = ("a photo of a {}.",)
DEFAULT_ATTRIBUTE_TEMPLATES = ("a photo of a {} {category}.",)
_TOP_KEYS = {"version", "templates", "attribute_templates", "attributes", "categories"}
_CATEGORY_KEYS = {"phrase", "templates", "attribute_templates", "attributes"}
_ATTRIBUTE_KEYS = {"classes", "templates"}


class YamlLabelSource:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.location = str(path)
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._labels: LabelSet | None = None

    def load(self) -> LabelSet:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise NotFound(f"labels file not found: {self.location} (set LABELS_FILE)") from None
        with self._lock:
            if self._labels is None or self._seen != (stat.st_mtime_ns, stat.st_size):
                self._labels = parse_labels(self._read(), self.location)
                self._seen = (stat.st_mtime_ns, stat.st_size)
            return self._labels

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{self.location}: cannot read: {exc}") from None


def parse_labels(text: str, source: str = "labels") -> LabelSet:
    """Parse and check the YAML text of a labels file; errors name `source` and the place."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{source}: {where}invalid YAML: {problem}") from None
    return _Parser(source).labels(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.source}: {where}: {problem}")

    def labels(self, data: Any) -> LabelSet:
        top = self.mapping(data, "top level", _TOP_KEYS)
        templates = self.templates(top, "templates", DEFAULT_TEMPLATES, category_ok=False)
        attr_templates = self.templates(top, "attribute_templates", DEFAULT_ATTRIBUTE_TEMPLATES)
        shared = self.mapping(top.get("attributes") or {}, "attributes")
        if "categories" not in top:
            raise self.error("top level", "missing 'categories'")
        categories = self.named_entries(top["categories"], "categories")
        if not categories:
            raise self.error("categories", "no categories defined")
        defaults = (templates, attr_templates)
        return LabelSet(
            tuple(self.category(name, raw, shared, defaults) for name, raw in categories),
            self.source,
        )

    def category(self, name: str, raw: Any, shared: dict, defaults: tuple) -> Category:
        where = f"categories.{name}"
        body = self.mapping(raw or {}, where, _CATEGORY_KEYS)
        phrase = self.text(body.get("phrase", name), f"{where}.phrase")
        templates = self.templates(body, "templates", defaults[0], where, category_ok=False)
        attr_templates = self.templates(body, "attribute_templates", defaults[1], where)
        attributes = []
        for attr_name, inline in self.named_entries(body.get("attributes") or [], where):
            raw_attr, attr_where = inline, f"{where}.attributes.{attr_name}"
            if inline is None:
                if attr_name not in shared:
                    known = ", ".join(map(str, shared)) or "none"
                    problem = f"unknown attribute {attr_name!r} (defined: {known})"
                    raise self.error(f"{where}.attributes", problem)
                raw_attr, attr_where = shared[attr_name], f"attributes.{attr_name}"
            attributes.append(self.attribute(attr_name, raw_attr, attr_templates, attr_where))
        return Category(name, phrase, templates, tuple(attributes))

    def attribute(self, name: str, raw: Any, default_templates: tuple, where: str) -> Attribute:
        body = self.mapping(raw, where, _ATTRIBUTE_KEYS)
        if "classes" not in body:
            raise self.error(where, "missing 'classes'")
        classes = tuple(
            LabelClass(cls, self.text(phrase if phrase is not None else cls, f"{where}.{cls}"))
            for cls, phrase in self.named_entries(body["classes"], f"{where}.classes")
        )
        if len(classes) < 2:
            raise self.error(f"{where}.classes", "needs at least two classes")
        templates = self.templates(body, "templates", default_templates, where)
        return Attribute(name, classes, templates)

    def templates(
        self,
        body: dict,
        key: str,
        default: tuple[str, ...],
        where: str = "",
        category_ok: bool = True,
    ) -> tuple[str, ...]:
        where = f"{where}.{key}" if where else key
        if key not in body:
            return tuple(default)
        raw = body[key]
        if not isinstance(raw, list) or not raw:
            raise self.error(where, "expected a non-empty list of prompt templates")
        return tuple(self.template(self.text(t, where), where, category_ok) for t in raw)

    def template(self, template: str, where: str, category_ok: bool) -> str:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise self.error(where, f"bad template {template!r}: {exc}") from None
        allowed = {"", "category"} if category_ok else {""}
        unknown = [f for f in fields if f not in allowed]
        if unknown or fields.count("") != 1:
            hint = "'{}' once" + (" and optionally '{category}'" if category_ok else "")
            raise self.error(where, f"bad template {template!r}: use {hint}")
        return template

    def named_entries(self, raw: Any, where: str) -> list[tuple[str, Any]]:
        """A list of names, or a mapping name -> value; names are unique non-empty strings."""
        if isinstance(raw, dict):
            entries = [(self.name(k, where), v) for k, v in raw.items()]
        elif isinstance(raw, list):
            entries = [(self.name(k, where), None) for k in raw]
        else:
            raise self.error(where, "expected a list of names or a mapping")
        names = [n for n, _ in entries]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise self.error(where, f"duplicate names: {', '.join(dupes)}")
        return entries

    def name(self, raw: Any, where: str) -> str:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise self.error(where, f"expected a name, got {raw!r}")
        name = str(raw).strip()
        if not name or os.sep in name or name in {".", ".."}:
            raise self.error(where, f"bad name {raw!r}")
        return name

    def text(self, raw: Any, where: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            raise self.error(where, f"expected non-empty text, got {raw!r}")
        return raw.strip()

    def mapping(self, raw: Any, where: str, keys: set[str] | None = None) -> dict:
        if not isinstance(raw, dict):
            raise self.error(where, f"expected a mapping, got {type(raw).__name__}")
        if keys is not None and (extra := sorted(set(map(str, raw)) - keys)):
            raise self.error(where, f"unknown key {extra[0]!r} (known: {', '.join(sorted(keys))})")
        return raw

"""The README's Layout section and docs/architecture.md name every package and top-level module
of app/, so the map a newcomer reads matches the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Layout\n", 1)[1].split("\n## ", 1)[0]


def _parts_of_app() -> set[str]:
    app = ROOT / "app"
    packages = {f"app/{p.name}/" for p in app.iterdir() if (p / "__init__.py").is_file()}
    modules = {f"app/{p.name}" for p in app.glob("*.py") if p.name != "__init__.py"}
    return packages | modules


def test_readme_layout_names_every_part_of_app():
    layout = _layout_section()
    missing = sorted(part for part in _parts_of_app() if part not in layout)
    assert not missing, f"README Layout does not mention {missing}"


def test_architecture_page_names_every_layer_and_links_resolve():
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layers = {p for p in _parts_of_app() if p.endswith("/")} | {"app/container.py"}
    assert not sorted(layer for layer in layers if layer not in page)
    for path in re.findall(r"`((?:app|tests)/[\w/.]+\.py)`", page):
        assert (ROOT / path).is_file(), f"docs/architecture.md names {path}, which is gone"

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


def test_readme_layout_names_every_port():
    """Every Protocol in app/interfaces/ is listed on the Layout's `app/interfaces/` lines."""
    layout = _layout_section()
    ports_text = layout.split("app/interfaces/", 1)[1].split("\napp/", 1)[0]
    ports = set()
    for module in (ROOT / "app" / "interfaces").glob("*.py"):
        text = module.read_text(encoding="utf-8")
        ports |= set(re.findall(r"^class (\w+)\(Protocol\)", text, re.M))
    missing = sorted(port for port in ports if not re.search(rf"\b{port}\b", ports_text))
    assert ports and not missing, f"README Layout (app/interfaces/) does not list {missing}"


def test_readme_names_every_setting():
    """Each setting of app/config.py is named somewhere in the README (all in .env.example)."""
    from app.config import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", readme))
    missing = sorted(n.upper() for n in Settings.model_fields if n.upper() not in named)
    assert not missing, f"README does not name the settings {missing}"


def test_readme_settings_table_gives_the_real_defaults():
    """Each row of the README's Settings table shows the default app/config.py has."""
    from app.config import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings (`.env`)", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (`[A-Z_]+`(?: / `[A-Z_]+`)*) \| (.*?) \|", table, re.M)
    wrong = []
    for names, defaults in rows:
        for name, shown in zip(re.findall(r"`(\w+)`", names), defaults.split(" / "), strict=True):
            real = Settings.model_fields[name.lower()].default
            real = "(unset)" if real is None else getattr(real, "value", real)
            if isinstance(real, Path):
                real = f"./{real}"
            if shown.strip().strip("`") != str(real).lower() and shown.strip("` ") != str(real):
                wrong.append(f"{name}: README {shown.strip()}, code {real}")
    assert len(rows) > 20 and not wrong, wrong

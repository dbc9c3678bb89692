"""Browser fixtures: Debian's Chromium under Playwright, a live server over real ETH-80 photos.

Without Chromium the browser tests skip with the reason; with CI set they fail instead
(`make test` installs Chromium with apt-get when it is missing and we are root).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import _in_ci, eth80_or_skip
from tests.api.web.harness import chromium_path, launch_chromium, live_server

CATALOGUE_CLASSES = ("apple", "car", "cup", "horse")
CATALOGUE_OBJECTS = 2  # the first objects of each class (sorted ids), 3 views each
VIEWS = (1, 5, 9)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        why = "no Chromium: `apt-get install chromium` (make test does it when root)"
        if _in_ci():
            pytest.fail(f"CI needs the browser tests but found {why}")
        pytest.skip(why)
    return path


@pytest.fixture(scope="package")
def browser(chromium):
    """Package scope: Playwright's sync API keeps an asyncio loop running in this thread while
    it is open, which would break later tests that call asyncio.run (the REPL's)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p, chromium)
        yield browser
        browser.close()


def eth80_photo(kind: str, obj: int, view: int) -> Path:
    """The photo of the `obj`-th object (0-based, sorted ids) of a class, from one view."""
    folder = eth80_or_skip() / kind
    objects = sorted({p.stem.rsplit("_", 1)[0] for p in folder.glob("*.jpg")})
    return folder / f"{objects[obj]}_{view}.jpg"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The real container (packaged EfficientNet-Lite0, SQLite, FAISS) over 24 ETH-80 photos
    (symlinks), rebuilt, served on a free port. Yields (base URL, container)."""
    from app.api.main import create_app
    from app.config import load_settings
    from app.container import build_container

    root = tmp_path_factory.mktemp("web")
    for kind in CATALOGUE_CLASSES:
        for obj in range(CATALOGUE_OBJECTS):
            for view in VIEWS:
                photo = eth80_photo(kind, obj, view)
                target = root / "products" / kind / photo.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(photo)
    settings = load_settings(
        _env_file=None,
        products_dir=root / "products",
        examples_dir=root / "examples",
        index_dir=root / "index",
        models_dir=root / "models",
        database_url=f"sqlite:///{root / 'app.db'}",
        embedding_model="efficientnet-lite0",
        top_k=5,
    )
    container = build_container(settings)
    report = container.rebuild_service().run()
    assert report.embedded == len(CATALOGUE_CLASSES) * CATALOGUE_OBJECTS * len(VIEWS)
    with live_server(create_app(container, warm_up=False)) as url:
        yield url, container


@dataclass
class Watched:
    """A page whose console errors and uncaught exceptions fail the test, unless allowed."""

    page: object
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def watched(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    w = Watched(page)
    page.on("console", lambda m: m.type == "error" and w.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: w.errors.append(f"page error: {exc}"))
    yield w
    context.close()
    assert w.unexpected() == [], "the page logged errors"


@pytest.fixture
def keyed_world(settings, colour_model):
    """A server with API_KEY set, over the small coloured catalogue and a fast text-image
    stand-in model (so the text box is on). Yields (base URL, key)."""
    from dependency_injector import providers

    from app.api.main import create_app
    from app.container import build_container

    key = "s3cret-key"
    container = build_container(settings.model_copy(update={"api_key": key}))
    container.embedding_model.override(providers.Object(colour_model))
    container.rebuild_service().run()
    with live_server(create_app(container, warm_up=False)) as url:
        yield url, key
    container.unwire()

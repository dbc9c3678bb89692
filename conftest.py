"""Fixtures shared by the whole suite: real small worlds (folders of images, settings in tmp)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Tests never reach a model hub; the suite must pass offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parent.parent / "shared" / "data"
CLOTHING = SHARED_DATA / "clothing-small"
ETH80 = SHARED_DATA / "eth80-groups"

COLOURS = {
    "red-shoe": (200, 30, 30),
    "green-hat": (30, 180, 40),
    "blue-dress": (30, 50, 210),
}


def write_product_photo(path: Path, colour: tuple[int, int, int], seed: int) -> Path:
    """A 64x48 photo-like image: a coloured object with noise on a light background."""
    rng = np.random.default_rng(seed)
    canvas = np.full((48, 64, 3), 235, dtype=np.int16)
    canvas[8:40, 12:52] = colour
    canvas += rng.integers(-12, 12, canvas.shape, dtype=np.int16)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8)).save(path, quality=95)
    return path


@pytest.fixture
def catalogue(tmp_path: Path) -> Path:
    """data/products with three products of three photos each (JPEG and PNG)."""
    root = tmp_path / "products"
    for i, (product, colour) in enumerate(COLOURS.items()):
        for view in range(3):
            suffix = ".png" if view == 2 else ".jpg"
            write_product_photo(root / product / f"view{view}{suffix}", colour, seed=10 * i + view)
    return root


TEST_LABELS = """
templates: ["a photo of a {}.", "a picture of a {}."]
attribute_templates: ["a photo of a {} {category}."]
attributes:
  color: {classes: [red, green, blue]}
categories:
  shoe:
    attributes:
      color:
      gender: {classes: {men: "men's", women: "women's"}}
  hat: {attributes: [color]}
  dress:
"""


@pytest.fixture
def settings(tmp_path: Path, catalogue: Path):
    """Settings pointing every path into tmp_path (nothing touches the checkout)."""
    from app.config import load_settings

    labels = tmp_path / "labels.yaml"
    labels.write_text(TEST_LABELS)
    return load_settings(
        _env_file=None,
        products_dir=catalogue,
        labels_file=labels,
        models_dir=tmp_path / "models",
        training_dir=tmp_path / "training",
        index_dir=tmp_path / "index",
        database_url=f"sqlite:///{tmp_path / 'app.db'}",
        history_file=tmp_path / "history",
        preprocessed_dir=tmp_path / "preprocessed",
        examples_dir=tmp_path / "examples",
        splits_dir=tmp_path / "splits",
        embedding_model="efficientnet-lite0",
        decode_workers=2,
        batch_size=4,
    )


def run_cli(container, *argv: str) -> tuple[int, str, str]:
    """One CLI command run in this process on `container`: (exit code, stdout, stderr)."""
    from app.cli.context import CliContext
    from app.cli.main import run

    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    code = run(list(argv), ctx)
    return code, ctx.out.getvalue(), ctx.err.getvalue()


def clothing_subset(per_class: int, split: str, offset: int = 0) -> list[Path]:
    """The first `per_class` photos of each class of a clothing-small split (sorted names)."""
    if not CLOTHING.is_dir():
        pytest.skip(f"real photos not found at {CLOTHING} (see ../shared/data/README.md)")
    files = []
    for folder in sorted((CLOTHING / split).iterdir()):
        files += sorted(folder.glob("*.jpg"))[offset : offset + per_class]
    return files


def eth80_or_skip() -> Path:
    if not ETH80.is_dir():
        pytest.skip(f"real photos not found at {ETH80} (see ../shared/data/README.md)")
    return ETH80


def eth80_subset(root: Path, classes: int, groups: int, views: int) -> Path:
    """A class-folder tree of symlinks to the first `groups` objects x `views` views of the first
    `classes` ETH-80 classes (sorted names), under `root`."""
    source = eth80_or_skip()
    for folder in sorted(p for p in source.iterdir() if p.is_dir())[:classes]:
        objects = sorted({p.stem.rsplit("_", 1)[0] for p in folder.glob("*.jpg")})[:groups]
        for name in objects:
            photos = sorted(folder.glob(f"{name}_*.jpg"), key=lambda p: int(p.stem.rsplit("_")[1]))
            for photo in photos[:views]:
                target = root / folder.name / photo.name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(photo)
    return root


@pytest.fixture
def fake_model():
    from tests.fakes import ThumbnailModel

    return ThumbnailModel()


def _container_with(settings, model):
    from dependency_injector import providers

    from app.container import build_container

    c = build_container(settings)
    c.embedding_model.override(providers.Object(model))
    yield c
    c.unwire()


@pytest.fixture
def container(settings, fake_model):
    """The real container (SQLite, FAISS, real preprocessing) with the fast fake model."""
    yield from _container_with(settings, fake_model)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A tiny CLIP saved with save_pretrained (loaded back through from_pretrained)."""
    from tests.infrastructure.embedding.tiny_models import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


def write_training_set(
    root: Path, category: str, attribute: str, colours: dict[str, tuple], per_class: int = 6
) -> Path:
    """root/<category>/<attribute>/<class>/<n>.jpg: coloured product photos per class."""
    for c, (name, colour) in enumerate(colours.items()):
        for i in range(per_class):
            write_product_photo(
                root / category / attribute / name / f"{i}.jpg", colour, 100 * c + i
            )
    return root


@pytest.fixture
def colour_model():
    from tests.fakes import ColourWordsModel

    return ColourWordsModel()


@pytest.fixture
def classify_container(settings, colour_model):
    """The real container with a text-capable fake model whose zero-shot answers are predictable."""
    yield from _container_with(settings, colour_model)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """TEST_POSTGRES_URL (set by scripts/pg_test_server.sh, which `make test` runs). Outside CI
    tests that need it skip without it; in CI (CI set) they fail."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        why = "TEST_POSTGRES_URL is not set: run `make test`, or scripts/pg_test_server.sh CMD"
        if _in_ci():
            pytest.fail(f"CI needs the PostgreSQL tests but {why}")
        pytest.skip(f"no PostgreSQL server ({why})")
    return url


@pytest.fixture
def postgres_url(postgres_server: str):
    """A URL of the test server whose search_path is a fresh schema (dropped afterwards)."""
    from uuid import uuid4

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    schema = f"t_{uuid4().hex[:12]}"
    admin = create_engine(postgres_server, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_server).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def tiny_owl_dir(tmp_path_factory) -> Path:
    """A tiny OWLv2 detector saved with save_pretrained (loaded back through from_pretrained)."""
    from tests.infrastructure.detection.tiny_owl import build_tiny_owlv2

    return build_tiny_owlv2(tmp_path_factory.mktemp("tiny-owlv2"))

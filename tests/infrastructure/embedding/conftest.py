"""Tiny Hugging Face models on disk (built once per session) and photos for the embedding tests.

`tiny_clip_dir` is the root conftest's (one build per session for every test folder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from tests.infrastructure.embedding.tiny_models import build_tiny_resnet


@pytest.fixture(scope="session")
def tiny_resnet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_resnet(tmp_path_factory.mktemp("models") / "tiny-resnet")


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    from skimage import data

    names = ("coffee", "chelsea", "astronaut", "rocket")
    return {name: Image.fromarray(getattr(data, name)()) for name in names}

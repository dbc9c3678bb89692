"""The compiled LANCZOS resize gives Pillow's bytes, loads only in processes that resize a lot,
and leaves everything on Pillow where numba is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.infrastructure import preprocessing
from app.infrastructure.preprocessing import lanczos
from conftest import SHARED_DATA

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def kernels():
    from app.infrastructure.preprocessing import lanczos_kernels

    return lanczos_kernels


def _pillow(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=lanczos.REDUCING_GAP)


def _framed_size(img: Image.Image, side: int) -> tuple[int, int]:
    width, height = img.size
    scale = side / max(width, height)
    return min(side, max(1, round(width * scale))), min(side, max(1, round(height * scale)))


@pytest.mark.parametrize(
    ("size", "new_size"),
    [
        ((400, 533), (192, 256)),  # the clothing photos' portrait, horizontal pass first
        ((533, 400), (256, 192)),  # landscape
        ((400, 865), (118, 256)),  # tall: Pillow runs the vertical pass first
        ((300, 200), (150, 200)),  # width only
        ((300, 200), (300, 77)),  # height only
        ((50, 40), (256, 205)),  # enlarging
        ((1, 1), (3, 3)),
        ((7, 900), (3, 256)),
        ((1535, 1535), (256, 256)),  # the largest shrink without a box reduction first
    ],
)
def test_compiled_resize_gives_pillows_bytes(kernels, size, new_size) -> None:
    rng = np.random.default_rng(sum(size) + sum(new_size))
    img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    assert lanczos._compiled_fits(img, new_size)
    assert lanczos._resize(kernels, img, new_size).tobytes() == _pillow(img, new_size).tobytes()


def test_compiled_resize_gives_pillows_bytes_on_real_photos(kernels) -> None:
    photos = sorted(SHARED_DATA.glob("*/*/*/*.jpg"))[::250]
    if not photos:
        pytest.skip(f"real photos not found at {SHARED_DATA} (see ../shared/data/README.md)")
    for path in photos:
        img = Image.open(path).convert("RGB")
        for side in (256, 224, 131):
            new_size = _framed_size(img, side)
            assert lanczos._compiled_fits(img, new_size)
            resized = lanczos._resize(kernels, img, new_size)
            assert resized.tobytes() == _pillow(img, new_size).tobytes(), (path, new_size)


def test_what_pillow_would_box_reduce_first_or_is_not_rgb_stays_on_pillow() -> None:
    big = Image.new("RGB", (1536, 1536), (10, 20, 30))
    assert not lanczos._compiled_fits(big, (256, 256))
    assert not lanczos._compiled_fits(Image.new("L", (400, 533)), (192, 256))
    assert lanczos.resize_lanczos(big, (256, 256)).tobytes() == _pillow(big, (256, 256)).tobytes()


def test_a_few_resizes_load_no_compiler() -> None:
    """A one-photo query frames its photo with Pillow and never imports numba."""
    script = (
        "import sys\n"
        "from PIL import Image\n"
        "from app.infrastructure.preprocessing.geometry import square_pad_resize\n"
        "from app.infrastructure.preprocessing.options import PreprocessOptions\n"
        "square_pad_resize(Image.new('RGB', (400, 533)), PreprocessOptions())\n"
        "print('numba' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert ran.stdout.strip() == "False"


def test_the_kernels_load_in_the_background_after_enough_resizes() -> None:
    loader = lanczos._Kernels(warm_after=2)
    assert [loader.get() for _ in range(3)] == [None, None, None]  # Pillow meanwhile
    module = loader.wait(timeout=120)
    assert module is not None and loader.get() is module


def test_without_numba_every_resize_stays_on_pillow(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    monkeypatch.setitem(sys.modules, "app.infrastructure.preprocessing.lanczos_kernels", None)
    monkeypatch.delattr(preprocessing, "lanczos_kernels", raising=False)
    loader = lanczos._Kernels(warm_after=0)
    monkeypatch.setattr(lanczos, "_KERNELS", loader)
    img = Image.new("RGB", (400, 533), (200, 100, 50))
    first = lanczos.resize_lanczos(img, (192, 256))
    assert loader.wait(timeout=30) is None
    assert lanczos.resize_lanczos(img, (192, 256)).tobytes() == first.tobytes()
    assert first.tobytes() == _pillow(img, (192, 256)).tobytes()

"""The ObjectDetector contract (app/interfaces/detection.py) run against every implementation:
the foreground splitter (`segment` mode quick) and OWLv2 (mode detector, a tiny random model)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import ImageError
from app.infrastructure.detection.foreground import ForegroundDetector
from app.infrastructure.detection.owl import OwlDetector
from app.infrastructure.preprocessing.options import PreprocessOptions

OPTIONS = PreprocessOptions()


@pytest.fixture(params=["foreground", "owl"])
def detector(request: pytest.FixtureRequest):
    if request.param == "foreground":
        return ForegroundDetector(OPTIONS)
    model_dir = request.getfixturevalue("tiny_owl_dir")
    return OwlDetector(str(model_dir), OPTIONS, threshold=0.0, device="cpu", local_files_only=True)


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    canvas = np.full((120, 200, 3), 245, dtype=np.uint8)
    canvas[20:100, 15:75] = (200, 30, 30)
    canvas[30:90, 120:185] = (30, 50, 210)
    path = tmp_path_factory.mktemp("detect") / "pair.png"
    Image.fromarray(canvas).save(path)
    return path


def test_crops_are_pngs_of_their_boxes_inside_the_image(detector, photo):
    crops = detector.crops(photo, max_objects=2)
    assert 1 <= len(crops) <= 2
    for crop in crops:
        left, top, right, bottom = crop.box
        assert 0 <= left < right <= 200 and 0 <= top < bottom <= 120
        with Image.open(io.BytesIO(crop.image.data)) as image:
            assert image.format == "PNG" and image.size == (right - left, bottom - top)


def test_bad_input_is_an_image_error(detector, tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_bytes(b"not an image at all\n" * 10)
    with pytest.raises(ImageError, match=r"notes\.jpg"):
        detector.crops(path)

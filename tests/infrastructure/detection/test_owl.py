"""OwlDetector over a tiny random OWLv2: random weights find nothing meaningful, so these check the
mechanics (boxes inside the image, best first, at most max_objects, PNG crops of the box size)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import BackendUnavailable
from app.infrastructure.detection.owl import OwlDetector, UnconfiguredDetector, build_detector
from app.infrastructure.preprocessing.options import PreprocessOptions

OPTIONS = PreprocessOptions()


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    rng = np.random.default_rng(0)
    canvas = np.full((120, 200, 3), 240, dtype=np.uint8)
    canvas[20:100, 15:75] = (200, 30, 30)
    canvas[30:90, 120:185] = rng.integers(0, 255, (60, 65, 3), dtype=np.uint8)
    path = tmp_path_factory.mktemp("owl") / "pair.png"
    Image.fromarray(canvas).save(path)
    return path


@pytest.fixture(scope="module")
def detector(tiny_owl_dir):
    return OwlDetector(
        str(tiny_owl_dir), OPTIONS, threshold=0.0, device="cpu", local_files_only=True
    )


def test_crops_lie_inside_the_image_best_first(detector, photo):
    crops = detector.crops(photo, max_objects=3)
    assert 1 <= len(crops) <= 3
    scores = [c.score for c in crops]
    assert scores == sorted(scores, reverse=True)
    for crop in crops:
        x0, y0, x1, y1 = crop.box
        assert 0 <= x0 < x1 <= 200 and 0 <= y0 < y1 <= 120
        cut = Image.open(io.BytesIO(crop.image.data))
        assert cut.format == "PNG" and cut.size == (x1 - x0, y1 - y0)
        assert crop.image.name.startswith("pair-") and crop.image.name.endswith(".png")
    assert len(detector.crops(photo, max_objects=1)) == 1


def test_kept_boxes_do_not_overlap_much(detector, photo):
    boxes = [np.array(c.box, dtype=float) for c in detector.crops(photo, max_objects=50)]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - w * h
            assert w * h / union <= 0.35  # NMS at IoU 0.3, then boxes rounded to pixels


def test_a_threshold_above_one_finds_nothing(tiny_owl_dir, photo):
    strict = OwlDetector(str(tiny_owl_dir), OPTIONS, threshold=1.01, local_files_only=True)
    assert strict.crops(photo) == []


def test_a_missing_model_is_backend_unavailable_naming_the_setting(tmp_path, photo):
    missing = OwlDetector(str(tmp_path / "no-such-model"), OPTIONS, local_files_only=True)
    with pytest.raises(BackendUnavailable, match="DETECTOR_MODEL"):
        missing.crops(photo)


def test_no_model_set_gives_a_stand_in_that_names_the_setting(photo):
    stand_in = build_detector("", OPTIONS, ("a photo of a product",))
    assert isinstance(stand_in, UnconfiguredDetector)
    with pytest.raises(BackendUnavailable, match="DETECTOR_MODEL=google/owlv2"):
        stand_in.crops(photo)

"""The ImagePreprocessor contract (app/interfaces/preprocessing.py) run against both adapters:
pad-and-resize (PREPROCESSOR=passthrough) and rembg background removal (PREPROCESSOR=rembg,
through rembg's real session path with a tiny local ONNX model, offline)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from app.domain.errors import ImageError, ImageFailure
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor

from ._images import RED, WHITE, build_red_saliency_model, encode, write

OPTIONS = PreprocessOptions(size=48)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_red_saliency_model(tmp_path_factory.mktemp("models") / "red.onnx")


@pytest.fixture(scope="module", params=["passthrough", "rembg"])
def preprocessor(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "passthrough":
        yield PadResizePreprocessor(OPTIONS)
        return
    home = tmp_path_factory.mktemp("rembg-home")  # nothing to download from: offline
    model = request.getfixturevalue("model_file")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("U2NET_HOME", str(home))
        patch.setenv("REMBG_HOME", str(home))
        yield RembgPreprocessor(OPTIONS, "u2net_custom", model, num_threads=1)


def _scene(mode: str = "RGB") -> Image.Image:
    img = Image.new("RGB", (90, 60), WHITE)
    img.paste(RED, (30, 10, 70, 50))
    return img.convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L", "CMYK"])
def test_any_mode_from_path_or_bytes_comes_out_rgb_at_the_size(preprocessor, tmp_path, mode):
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    data = encode(_scene(mode), fmt)
    for source in (write(tmp_path, f"scene.{fmt.lower()}", data), data):
        out = preprocessor.prepare(source, name="scene")
        assert out.mode == "RGB" and out.size == (48, 48)


def test_stamp_names_the_steps(preprocessor):
    assert isinstance(preprocessor.stamp, str) and "48" in preprocessor.stamp


def test_bad_input_is_an_image_error_naming_the_file(preprocessor, tmp_path):
    with pytest.raises(ImageError) as info:
        preprocessor.prepare(write(tmp_path, "notes.jpg", b"just text\n" * 20))
    assert "notes.jpg" in str(info.value) and info.value.kind == ImageFailure.NOT_AN_IMAGE


def test_thread_safe(preprocessor):
    data = encode(_scene(), "PNG")
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda i: preprocessor.prepare(data, name=f"{i}.png"), range(8)))
    assert all(o.tobytes() == outs[0].tobytes() for o in outs)

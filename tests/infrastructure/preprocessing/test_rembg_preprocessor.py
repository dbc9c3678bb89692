"""RembgPreprocessor through rembg's real session path, with a tiny local ONNX model.

U2NET_HOME/REMBG_HOME point at an empty folder and pooch is stubbed, so no test can download.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import BackendUnavailable, ImageError
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor

from ._images import RED, WHITE, build_red_saliency_model, encode, pixels, write

OPTIONS = PreprocessOptions(size=64)


@pytest.fixture(autouse=True)
def offline_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "rembg-home"
    home.mkdir()
    monkeypatch.setenv("U2NET_HOME", str(home))
    monkeypatch.setenv("REMBG_HOME", str(home))

    def no_download(*args: object, **kwargs: object) -> None:
        import requests

        raise requests.ConnectionError("Failed to resolve 'github.com' (offline test)")

    import pooch

    monkeypatch.setattr(pooch, "retrieve", no_download)
    return home


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_red_saliency_model(tmp_path_factory.mktemp("models") / "red.onnx")


def _red_square_scene() -> bytes:
    img = Image.new("RGB", (200, 160), WHITE)
    img.paste(RED, (120, 30, 170, 80))  # a 50x50 square, off-centre
    return encode(img, "PNG")


@pytest.mark.parametrize("model_name", ["u2net_custom", "u2net"])
def test_red_square_is_cut_out_and_framed(model_file: Path, model_name: str) -> None:
    pre = RembgPreprocessor(OPTIONS, model_name=model_name, model_path=model_file, num_threads=1)
    out = pre.prepare(_red_square_scene(), name="scene.png")
    assert out.mode == "RGB" and out.size == (64, 64)
    arr = pixels(out)
    red = (arr[..., 0] > 200) & (arr[..., 1] < 60) & (arr[..., 2] < 60)
    assert red.mean() > 0.8  # tight crop: the square fills the frame
    assert red[32, 32] and red[4, 4] and red[60, 60]
    assert pre.stamp == f"rembg:{model_name}(red.onnx),alpha>64+pad:size=64,padding=0.0,bg=ffffff"


def test_model_home_is_restored(model_file: Path, offline_home: Path) -> None:
    RembgPreprocessor(OPTIONS, "u2net_custom", model_file, num_threads=1).load()
    assert os.environ["U2NET_HOME"] == str(offline_home)


def test_no_foreground_keeps_whole_image(model_file: Path) -> None:
    pre = RembgPreprocessor(OPTIONS, "u2net_custom", model_file, num_threads=1)
    out = pre.prepare(encode(Image.new("RGB", (30, 30), WHITE), "PNG"))
    assert out.size == (64, 64) and (pixels(out) == 255).all()


def test_missing_model_file(tmp_path: Path) -> None:
    pre = RembgPreprocessor(OPTIONS, "u2net_custom", tmp_path / "nope.onnx")
    with pytest.raises(BackendUnavailable) as info:
        pre.prepare(_red_square_scene())
    message = str(info.value)
    assert "'u2net_custom'" in message and "nope.onnx" in message
    assert "USE_BG_REMOVAL=false" in message and "\n" not in message


def test_offline_named_model_fails_once_and_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import pooch

    calls: list[object] = []
    refuse = pooch.retrieve
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: calls.append(a) or refuse(*a, **k))
    pre = RembgPreprocessor(OPTIONS, "u2net")
    for _ in range(2):
        with pytest.raises(BackendUnavailable) as info:
            pre.prepare(_red_square_scene())
        message = str(info.value)
        assert "'u2net'" in message and "ConnectionError" in message
        assert "USE_BG_REMOVAL=false" in message and "REMBG_MODEL_PATH" in message
    assert len(calls) == 1  # the failure is remembered, not retried per image


def test_unknown_or_unloadable_models(tmp_path: Path, model_file: Path) -> None:
    with pytest.raises(BackendUnavailable, match="No session class found"):
        RembgPreprocessor(OPTIONS, "no-such-model").load()
    with pytest.raises(BackendUnavailable, match="cannot load it from a file"):
        RembgPreprocessor(OPTIONS, "birefnet-general", model_file).load()
    with pytest.raises(BackendUnavailable, match="model_path is required"):
        RembgPreprocessor(OPTIONS, "u2net_custom").load()
    broken = write(tmp_path, "broken.onnx", b"not a model")
    with pytest.raises(BackendUnavailable, match="USE_BG_REMOVAL=false"):
        RembgPreprocessor(OPTIONS, "u2net_custom", broken).load()


def test_rembg_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rembg", None)
    with pytest.raises(BackendUnavailable, match=r"rembg is not installed.*USE_BG_REMOVAL=false"):
        RembgPreprocessor(OPTIONS, "u2net").load()


def test_bad_image_is_an_image_error_not_a_backend_error(model_file: Path) -> None:
    pre = RembgPreprocessor(OPTIONS, "u2net_custom", model_file, num_threads=1)
    with pytest.raises(ImageError, match=r"x\.jpg: not an image"):
        pre.prepare(b"hello", name="x.jpg")


def test_session_is_created_once_across_threads(
    model_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rembg

    created: list[str] = []
    lock = threading.Lock()
    real = rembg.new_session

    def counting(*args: object, **kwargs: object) -> object:
        with lock:
            created.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(rembg, "new_session", counting)
    pre = RembgPreprocessor(OPTIONS, "u2net_custom", model_file, num_threads=1)
    data = _red_square_scene()
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: pixels(pre.prepare(data)), range(4)))
    assert created == ["u2net_custom"]
    assert all(np.array_equal(o, outs[0]) for o in outs)


def test_constructing_does_not_import_rembg() -> None:
    code = (
        "import sys\n"
        "from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor\n"
        "RembgPreprocessor(model_name='u2net')\n"
        "heavy = {'rembg', 'onnxruntime', 'numba', 'skimage'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


def test_offline_message_is_one_whole_line_naming_the_documented_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("U2NET_HOME", raising=False)
    with pytest.raises(BackendUnavailable) as info:
        RembgPreprocessor(OPTIONS, "u2net").prepare(_red_square_scene())
    message = str(info.value)
    assert "put u2net.onnx in ~/.u2net" in message  # the folder README names
    assert message.endswith("or USE_BG_REMOVAL=false") and "\n" not in message
    assert "HTTPSConnectionPool" not in message and ".rembg" not in message
    assert ".rembg" not in capfd.readouterr().err  # no download chatter naming another folder
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "models"))
    with pytest.raises(BackendUnavailable, match=f"put u2net.onnx in {tmp_path / 'models'}"):
        RembgPreprocessor(OPTIONS, "u2net").prepare(_red_square_scene())

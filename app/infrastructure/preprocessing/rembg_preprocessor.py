"""Adapter: rembg background removal, then tight crop, square pad and resize.

rembg (and onnxruntime, numba, scikit-image behind it) is imported on first use, and its
session is created once per instance behind a lock. Without `model_path`, `rembg.new_session`
finds the model under `U2NET_HOME` / `REMBG_HOME` or downloads it (needs internet). With
`model_path`, a custom session (`u2net_custom`, `dis_custom`, `ben_custom`) loads that file;
rembg only accepts a `model_path` inside its home folder, so `U2NET_HOME` is pointed at the
file's folder while the session is created (and restored right after).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.domain.errors import BackendUnavailable
from app.infrastructure.lazy import Lazy
from app.infrastructure.preprocessing.geometry import pad_stamp, square_pad_resize
from app.infrastructure.preprocessing.image_io import composite_over, decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions

log = logging.getLogger(__name__)

ALPHA_THRESHOLD = 64  # mask values above this count as foreground for the tight crop
_HINT = (
    "set REMBG_MODEL_PATH to a local model file (REMBG_MODEL=u2net_custom), or USE_BG_REMOVAL=false"
)
# rembg session that loads a model file, for each model name that may come with a path.
_FILE_SESSIONS = {
    "u2net_custom": "u2net_custom",
    "dis_custom": "dis_custom",
    "ben_custom": "ben_custom",
    "u2net": "u2net_custom",
    "u2netp": "u2net_custom",
    "u2net_human_seg": "u2net_custom",
    "silueta": "u2net_custom",
    "isnet-general-use": "dis_custom",
}
_ENV_LOCK = threading.Lock()  # U2NET_HOME is process-wide: one session creation at a time


class RembgPreprocessor:
    """`ImagePreprocessor` that cuts the object out of its background before framing it.

    Steps: decode (EXIF, RGB) -> rembg mask -> composite over `bg_rgb` -> crop to the
    foreground's bounding box (the whole image if no foreground is found) -> square pad with
    margin -> resize. A missing model or library raises `BackendUnavailable` (one line).
    """

    def __init__(
        self,
        options: PreprocessOptions | None = None,
        model_name: str = "u2net",
        model_path: Path | str | None = None,
        num_threads: int = 0,
    ) -> None:
        self.options = options or PreprocessOptions()
        self.model_name = model_name
        self.model_path = Path(model_path).expanduser().absolute() if model_path else None
        self._num_threads = num_threads
        # a failed session creation is not retried per image (it may be a download)
        self._session: Lazy[Any] = Lazy(
            lambda: _create_session(self.model_name, self.model_path, self._num_threads),
            remember_failure=True,
        )
        model = model_name + (f"({self.model_path.name})" if self.model_path else "")
        self.stamp = f"rembg:{model},alpha>{ALPHA_THRESHOLD}+{pad_stamp(self.options)}"

    def load(self) -> None:
        """Create the rembg session now (otherwise it is created by the first `prepare`)."""
        self._session.get()

    def prepare(self, source: Path | str | bytes, name: str | None = None) -> Image.Image:
        img = decode_image(source, name, self.options)
        cutout = self._remove_background(img)
        return square_pad_resize(crop_to_foreground(img, cutout, self.options.bg_rgb), self.options)

    def foreground_mask(self, img: Image.Image) -> np.ndarray:
        """(H, W) bool: where the background-removal model sees the object."""
        return np.asarray(self._remove_background(img.convert("RGB")).convert("RGBA"))[..., 3] > 64

    def _remove_background(self, img: Image.Image) -> Image.Image:
        session = self._session.get()
        import rembg

        # u2net-style sessions divide by (max - min) of the prediction: 0/0 on a flat mask.
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                return rembg.remove(img, session=session)
            except (ValueError, RuntimeError, *_onnxruntime_errors()) as exc:
                raise _unavailable(self.model_name, f"inference failed: {exc}") from exc


def crop_to_foreground(
    img: Image.Image, cutout: Image.Image, bg_rgb: tuple[int, int, int]
) -> Image.Image:
    """Composite `cutout` (RGBA) over `bg_rgb` and crop to its foreground's bounding box.

    If no pixel's alpha exceeds `ALPHA_THRESHOLD` the mask is unusable: `img` is returned
    unchanged rather than an empty background.
    """
    lut = [0] * (ALPHA_THRESHOLD + 1) + [255] * (255 - ALPHA_THRESHOLD)
    bbox = cutout.getchannel("A").point(lut).getbbox()
    if bbox is None:
        log.debug("rembg found no foreground; keeping the whole image")
        return img
    return composite_over(cutout.convert("RGBA").crop(bbox), bg_rgb)


def _create_session(model_name: str, model_path: Path | None, num_threads: int) -> Any:
    try:
        import onnxruntime as ort
        import rembg
    except ImportError as exc:
        raise _unavailable(model_name, f"rembg is not installed: {exc}") from exc
    session_name, kwargs = _session_args(model_name, model_path)
    opts = ort.SessionOptions()
    if num_threads > 0:
        opts.intra_op_num_threads = num_threads
        opts.inter_op_num_threads = 1
    log.info("loading background removal model %s", model_path or model_name)
    _quiet_downloads()
    try:
        with _rembg_home(model_path):
            return rembg.new_session(session_name, sess_opts=opts, **kwargs)
    except (OSError, ValueError, RuntimeError, *_onnxruntime_errors()) as exc:
        if _is_download_failure(exc):
            raise _not_downloadable(model_name, exc) from exc
        raise _unavailable(model_name, f"{type(exc).__name__}: {exc}") from exc


_NETWORK_ERRORS = {
    *("ConnectionError", "MaxRetryError", "NameResolutionError", "NewConnectionError"),
    *("URLError", "gaierror", "Timeout", "ConnectTimeout", "HTTPError"),
}


def _is_download_failure(exc: BaseException | None) -> bool:
    """A model download that could not reach its host (anywhere in the exception chain)."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__name__ in _NETWORK_ERRORS:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def model_home() -> str:
    """The folder where rembg finds a model file by its name (`u2net.onnx`): `U2NET_HOME`,
    else `~/.u2net` (the folder the README names)."""
    return os.environ.get("U2NET_HOME") or "~/.u2net"


def _not_downloadable(model_name: str, exc: BaseException) -> BackendUnavailable:
    home = model_home()
    return BackendUnavailable(
        f"background removal model '{model_name}' is not in {home} and could not be downloaded "
        f"({type(exc).__name__}: no connection to its host): put {model_name}.onnx in {home}, "
        f"or {_HINT}"
    )


def _quiet_downloads() -> None:
    """pooch (rembg's downloader) prints where it downloads to, a folder that is not the one to
    put a model in by hand: failures are said in our own line instead."""
    with contextlib.suppress(ImportError):
        import pooch

        pooch.get_logger().setLevel(logging.WARNING)


def _session_args(model_name: str, model_path: Path | None) -> tuple[str, dict[str, str]]:
    if model_path is None:
        return model_name, {}
    if not model_path.is_file():
        raise _unavailable(model_name, f"model file not found: {model_path}")
    session_name = _FILE_SESSIONS.get(model_name)
    if session_name is None:
        choices = ", ".join(sorted({*_FILE_SESSIONS.values()}))
        raise _unavailable(model_name, f"cannot load it from a file; use REMBG_MODEL={choices}")
    return session_name, {"model_path": str(model_path)}


@contextmanager
def _rembg_home(model_path: Path | None) -> Iterator[None]:
    """Point U2NET_HOME at the model file's folder (rembg refuses model paths outside it)."""
    if model_path is None:
        yield
        return
    with _ENV_LOCK:
        previous = os.environ.get("U2NET_HOME")
        os.environ["U2NET_HOME"] = str(model_path.parent)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("U2NET_HOME", None)
            else:
                os.environ["U2NET_HOME"] = previous


def _onnxruntime_errors() -> tuple[type[Exception], ...]:
    """onnxruntime's own exception classes (they derive from Exception only)."""
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    return tuple(
        v for v in vars(state).values() if isinstance(v, type) and issubclass(v, Exception)
    )


def _unavailable(model_name: str, reason: str) -> BackendUnavailable:
    lines = str(reason).strip().splitlines() or [""]
    short = lines[0][:200]
    return BackendUnavailable(
        f"background removal model '{model_name}' is unavailable ({short}): {_HINT}"
    )

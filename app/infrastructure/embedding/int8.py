"""INFERENCE_PRECISION=int8: the verified ONNX export of the image tower, statically quantised
with ONNX Runtime (QDQ: int8 weights per channel, uint8 activations) and calibrated once on photos
from the user's own catalogue.

Measured here (scripts/bench_int8.py) to be faster than fp32 on the CPU; its embeddings are close
to the fp32 ones but not equal (cosine ~0.98), so the stamp says int8 and an index built in fp32 is
rebuilt rather than mixed. The quantised graph is cached next to the fp32 export under the same
sha256 record; it is calibrated again only when the model changes or the file is lost (then
`rebuild --full`: a new calibration moves embeddings slightly). Text towers stay fp32.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.domain.errors import BackendUnavailable, ConfigError
from app.domain.scoring import l2_normalize
from app.infrastructure.embedding.hub import one_line
from app.infrastructure.embedding.onnx_export import CachedGraph
from app.infrastructure.embedding.onnx_model import OnnxEmbedding, SessionSettings, make_session
from app.infrastructure.embedding.wrapping import EmbeddingWrapper
from app.infrastructure.lazy import Lazy

logger = logging.getLogger("app.embedding")

INT8 = "int8"
CALIBRATION_BATCH = 8


def with_precision(model: Any, precision: str, calibration: Callable[[], list[Image.Image]]) -> Any:
    """`model` as INFERENCE_PRECISION says: as it is (fp32), or its ONNX image graph in int8."""
    if str(precision).strip().lower() != INT8:
        return model
    if not isinstance(model, OnnxEmbedding):
        raise ConfigError(
            "INFERENCE_PRECISION=int8 runs in ONNX Runtime on the CPU: set INFERENCE_RUNTIME=auto "
            "or onnx, DEVICE=cpu"
        )
    return Int8Embedding(model, calibration, model.session_settings)


class Int8Embedding(EmbeddingWrapper):
    """The image tower of an `OnnxEmbedding`, quantised to int8; `calibration` gives the photos
    (as the preprocessor prepares them) to calibrate on, the first time only."""

    def __init__(
        self,
        inner: OnnxEmbedding,
        calibration: Callable[[], list[Image.Image]],
        settings: SessionSettings,
    ) -> None:
        super().__init__(inner)
        self._calibration = calibration
        self._settings = settings
        self._session: Lazy[Any] = Lazy(self._load)

    @property
    def stamp(self) -> str:
        return f"{self.inner.stamp}:{INT8}"

    @property
    def is_loaded(self) -> bool:
        return self._session.loaded or bool(self.inner.is_loaded)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(pixels, dtype=np.float32)
        if batch.shape[0] == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return l2_normalize(self._session.get().run(None, {"pixels": batch})[0])

    def unload(self) -> None:
        self._session.reset()
        self.inner.unload()

    def _load(self) -> Any:
        cached = CachedGraph.of(
            self._settings.cache_dir,
            f"{self.model_id} image tower {INT8}",
            self.stamp,
            getattr(self.inner.inner, "weights_fingerprint", lambda: "")(),
        )
        data = cached.read_verified()
        if data is None:
            data = self._quantise(cached)
        return make_session(data, self._settings)

    def _quantise(self, cached: CachedGraph) -> bytes:
        fp32 = self.inner.image_graph()
        if fp32 is None:
            raise BackendUnavailable(
                f"INFERENCE_PRECISION=int8 needs the ONNX export of {self.model_id}, which was "
                "refused: set INFERENCE_PRECISION=fp32"
            )
        logger.warning("%s: quantising to int8 once (calibrated on your photos)", cached.label)
        pixels = np.stack([self.inner.to_pixels(image) for image in self._calibration()])
        try:
            data = quantise(fp32, pixels)
        except Exception as error:  # ONNX Runtime's quantiser: any failure is one clear line
            raise BackendUnavailable(
                f"int8 quantisation of {self.model_id} failed ({one_line(error)}): "
                "set INFERENCE_PRECISION=fp32"
            ) from error
        self.inner.unload()  # the fp32 session and torch weights are not needed any more
        try:
            cached.save(data, float("nan"))
        except OSError as error:  # the session still runs; the next start quantises again
            logger.warning("cannot cache %s: %s", cached.onnx_path, one_line(error))
        return data


def quantise(fp32: bytes, pixels: np.ndarray) -> bytes:
    """Static QDQ quantisation of an fp32 graph with input "pixels", calibrated on `pixels`."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            steps = range(0, len(pixels), CALIBRATION_BATCH)
            self._batches = iter([pixels[i : i + CALIBRATION_BATCH] for i in steps])

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {"pixels": batch}

    with tempfile.TemporaryDirectory(prefix="int8-") as work:
        source, prepared, out = (Path(work) / n for n in ("fp32.onnx", "pre.onnx", "int8.onnx"))
        source.write_bytes(fp32)
        quant_pre_process(str(source), str(prepared))
        quantize_static(
            str(prepared), str(out), Batches(), quant_format=QuantFormat.QDQ,
            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
        )  # fmt: skip
        return out.read_bytes()

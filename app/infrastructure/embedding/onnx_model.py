"""INFERENCE_RUNTIME: run an embedding adapter's graphs in ONNX Runtime instead of eager torch.

`OnnxEmbedding` wraps any adapter that can hand out its torch graph (`torch_module()`, and for
text-image models `text_module()` + `tokenize()`). Its stamp is the adapter's stamp: an export is
only used after it was verified to give the same embeddings (cosine >= 0.9999 per row), so an index
built with torch stays valid with ONNX Runtime and the other way round. The session loads lazily,
once, from the cached export (no torch import at all), or exports first; a refused export falls
back to the wrapped torch adapter with one warning.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.domain.scoring import l2_normalize
from app.infrastructure.embedding.hub import one_line
from app.infrastructure.embedding.onnx_export import (
    MIN_COSINE,
    CachedGraph,
    ExportRequest,
    export_onnx,
    row_cosines,
    torch_reference,
)
from app.infrastructure.embedding.wrapping import EmbeddingWrapper
from app.infrastructure.lazy import Lazy

logger = logging.getLogger("app.embedding")

SAMPLE_PHOTOS = ("coffee", "chelsea", "astronaut", "rocket")  # real photos shipped with skimage
SAMPLE_TEXTS = ("a photo of a red shoe", "a blue summer dress with flowers", "a hat", "coffee")
CPU = "CPUExecutionProvider"
_IMPORT_LOCK = threading.Lock()


@dataclass(frozen=True)
class SessionSettings:
    """How sessions are made: where exports are cached, threads, execution providers."""

    cache_dir: Path
    num_threads: int = 0
    providers: tuple[str, ...] = (CPU,)


@dataclass(frozen=True)
class _Graph:
    """A loaded graph: an ONNX Runtime session, or None when the export was refused (use torch)."""

    session: Any


class OnnxEmbedding(EmbeddingWrapper):
    """EmbeddingModel running the wrapped adapter's image (and text) graph in ONNX Runtime."""

    def __init__(self, inner: Any, settings: SessionSettings) -> None:
        super().__init__(inner)
        self._settings = settings
        self._image: Lazy[_Graph] = Lazy(lambda: self._load("image tower", self._image_request))
        self._text: Lazy[_Graph] = Lazy(lambda: self._load("text tower", self._text_request))

    @property
    def runtime(self) -> str:
        """ "onnx" once the image graph runs in ONNX Runtime, "torch" after a refused export."""
        graph = self._image.get()
        return "onnx" if graph.session is not None else "torch"

    @property
    def is_loaded(self) -> bool:
        return self._image.loaded or self._text.loaded or bool(self.inner.is_loaded)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(pixels, dtype=np.float32)
        if batch.shape[0] == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        session = self._image.get().session
        if session is None:
            return self.inner.embed_pixels(batch)
        return l2_normalize(session.run(None, {"pixels": batch})[0])

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        if not texts or not self.supports_text:
            return self.inner.embed_texts(texts)
        session = self._text.get().session
        if session is None:
            return self.inner.embed_texts(texts)
        wanted = {node.name for node in session.get_inputs()}
        tokens = self.inner.tokenize(list(texts))
        feeds = {name: value for name, value in tokens.items() if name in wanted}
        return l2_normalize(session.run(None, feeds)[0])

    @property
    def session_settings(self) -> SessionSettings:
        return self._settings

    def image_graph(self) -> bytes | None:
        """The verified fp32 image graph (exported first when needed); None when refused."""
        if self._image.get().session is None:
            return None
        return self._cached("image tower").read_verified()

    def unload(self) -> None:
        self._image.reset()
        self._text.reset()
        self.inner.unload()

    def _cached(self, tower: str) -> CachedGraph:
        fingerprint = getattr(self.inner, "weights_fingerprint", lambda: "")()
        label = f"{self.model_id} {tower}"
        return CachedGraph.of(self._settings.cache_dir, label, self.stamp, fingerprint)

    def _load(self, tower: str, request: Callable[[], ExportRequest]) -> _Graph:
        cached = self._cached(tower)
        refused = cached.refusal()
        if refused is not None:
            logger.warning("%s: ONNX export was refused (%s); using torch", cached.label, refused)
            return _Graph(None)
        data = cached.read_verified()
        if data is not None:
            try:
                return _Graph(make_session(data, self._settings))
            except Exception as error:  # ONNX Runtime's own error types: a broken file
                logger.warning(
                    "cached %s does not load (%s): exporting it again",
                    cached.onnx_path,
                    one_line(error),
                )
        return _Graph(self._export(cached, request))

    def _export(self, cached: CachedGraph, build: Callable[[], ExportRequest]) -> Any:
        logger.warning(
            "%s: converting to ONNX Runtime once (some seconds; later starts load %s)",
            cached.label,
            cached.onnx_path.parent,
        )
        try:
            request = build()
            data = export_onnx(request)
            session = make_session(data, self._settings)
            worst = _worst_cosine(request, session)
        except Exception as error:  # any exporter failure (unsupported op, model type) -> torch
            reason = f"export failed: {one_line(error)}"
        else:
            if worst >= MIN_COSINE:
                _save(cached, data, worst)
                self.inner.unload()  # the torch weights reload only if torch is needed again
                return session
            reason = f"cosine to torch {worst:.6f} < {MIN_COSINE}"
        cached.refuse(reason)
        logger.warning("%s: ONNX export refused (%s); using torch", cached.label, reason)
        return None

    def _image_request(self) -> ExportRequest:
        pixels = np.stack([self.inner.to_pixels(photo) for photo in sample_photos()])
        return ExportRequest(
            self.inner.torch_module, {"pixels": pixels}, checks=({"pixels": pixels[:1]},)
        )

    def _text_request(self) -> ExportRequest:
        tokens = self.inner.tokenize(list(SAMPLE_TEXTS))
        single = self.inner.tokenize(list(SAMPLE_TEXTS[2:3]))  # another sequence length
        axes = {name: {0: "batch", 1: "sequence"} for name in tokens}
        return ExportRequest(self.inner.text_module, tokens, checks=(single,), dynamic=axes)


def make_session(data: bytes, settings: SessionSettings) -> Any:
    """An ONNX Runtime session with deliberate options: NUM_THREADS intra-op threads (0 = every
    core) that do not spin, one inter-op thread (graphs run sequentially), all graph
    optimisations, the memory arena."""
    ort = import_onnxruntime(settings.cache_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.num_threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    options.log_severity_level = 3  # errors only: no per-node warnings on stderr
    # no busy-waiting between ops: decode workers share these cores (measured on 2 cores during a
    # rebuild: 15% more images/s and 17% less CPU per image than with spinning on)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    available = set(ort.get_available_providers())
    providers = [name for name in settings.providers if name in available] or [CPU]
    return ort.InferenceSession(data, sess_options=options, providers=providers)


def import_onnxruntime(cache_dir: Path) -> Any:
    """`onnxruntime`, imported with its telemetry off and its device-id files kept in `cache_dir`.

    ONNX Runtime (1.2x+) writes telemetry files under $XDG_CACHE_HOME (~/.cache) when it is
    imported; the application writes only under its data and models folders, so the first import
    points XDG_CACHE_HOME there for a moment, then telemetry events are disabled.
    """
    with _IMPORT_LOCK:
        if "onnxruntime" not in sys.modules:
            saved = os.environ.get("XDG_CACHE_HOME")
            os.environ["XDG_CACHE_HOME"] = str((Path(cache_dir) / ".onnxruntime").absolute())
            try:
                import onnxruntime
            finally:
                if saved is None:
                    os.environ.pop("XDG_CACHE_HOME", None)
                else:
                    os.environ["XDG_CACHE_HOME"] = saved
        import onnxruntime

        onnxruntime.disable_telemetry_events()
    return onnxruntime


def sample_photos() -> list[Image.Image]:
    """A few real photos to verify exports on (scikit-image ships them; rembg depends on it)."""
    try:
        from skimage import data
    except ImportError:  # deterministic stand-ins: smooth colour gradients with an object
        return [_stand_in(seed) for seed in range(len(SAMPLE_PHOTOS))]
    return [Image.fromarray(getattr(data, name)()).convert("RGB") for name in SAMPLE_PHOTOS]


def _stand_in(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 255, 256, dtype=np.float32)
    canvas = np.stack([np.add.outer(ramp, ramp) / 2] * 3, axis=-1) * rng.uniform(0.3, 1.0, 3)
    canvas[64:192, 80:176] = rng.integers(0, 256, 3)
    return Image.fromarray(canvas.clip(0, 255).astype(np.uint8))


def _worst_cosine(request: ExportRequest, session: Any) -> float:
    module = request.module()
    worst = 1.0
    for inputs in (request.inputs, *request.checks):
        actual = session.run(None, inputs)[0]
        worst = min(worst, float(row_cosines(torch_reference(module, inputs), actual).min()))
    return worst


def _save(cached: CachedGraph, data: bytes, worst: float) -> None:
    try:
        cached.save(data, worst)
    except OSError as error:  # the session still runs; the next start exports again
        logger.warning("cannot cache %s: %s", cached.onnx_path, one_line(error))


def with_runtime(
    model: Any, runtime: str, device: str, cache_dir: Path, num_threads: int = 0
) -> Any:
    """`model` as INFERENCE_RUNTIME says: wrapped for ONNX Runtime, or as it is (torch).

    auto: ONNX Runtime on the CPU, torch on CUDA. Models that cannot hand out a torch graph
    (test fakes) are returned as they are.
    """
    choice = str(runtime).strip().lower()
    if not callable(getattr(model, "torch_module", None)) or choice == "torch":
        return model
    cuda = _uses_cuda(str(device))
    if choice == "auto" and cuda:
        return model
    providers = ("CUDAExecutionProvider", CPU) if cuda else (CPU,)
    return OnnxEmbedding(model, SessionSettings(Path(cache_dir), num_threads, providers))


def _uses_cuda(device: str) -> bool:
    """Whether DEVICE means the GPU; "auto" imports torch only where an NVIDIA driver is loaded."""
    device = device.strip().lower()
    if device != "auto":
        return device.startswith("cuda")
    if not Path("/proc/driver/nvidia").exists():
        return False
    from app.infrastructure.embedding.runtime import resolve_device

    return resolve_device("auto") == "cuda"

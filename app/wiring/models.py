"""Models sub-container: the embedding model (EMBEDDING_MODEL), the preprocessor chosen by
PREPROCESSOR (passthrough or rembg), the `segment` detectors, the batching embedder and the
query embeddings cached per content and model.

Every model is a ThreadSafeSingleton that loads its weights lazily on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dependency_injector import containers, providers
from PIL import Image

from app.config import Settings
from app.domain.choices import SegmentMode
from app.domain.errors import ConfigError, ImageError
from app.infrastructure.detection.foreground import ForegroundDetector
from app.infrastructure.detection.owl import build_detector
from app.infrastructure.embedding.batching import MicroBatchingEmbedding
from app.infrastructure.embedding.int8 import with_precision
from app.infrastructure.embedding.onnx_model import with_runtime
from app.infrastructure.embedding.resolver import create_embedding_model
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.infrastructure.preprocessing.preprocessed_writer import PreprocessedWriter
from app.infrastructure.preprocessing.rembg_preprocessor import RembgPreprocessor
from app.interfaces.preprocessing import ImagePreprocessor
from app.services.cached_embeddings import CachedEmbeddings
from app.services.pipeline import Embedder
from app.services.scanning import iter_image_files


def preprocess_options(s: Settings) -> PreprocessOptions:
    return PreprocessOptions(
        size=s.preprocess_size,
        padding=s.preprocess_padding,
        bg_rgb=s.bg_rgb,
        max_pixels=s.max_image_pixels,
        max_bytes=s.max_image_bytes,
    )


def _onnx_dir(s: Settings) -> Path:
    return s.models_dir / "onnx"


def _writer(s: Settings) -> PreprocessedWriter | None:
    return PreprocessedWriter(s.preprocessed_dir) if s.save_preprocessed else None


@dataclass(frozen=True)
class CatalogueSample:
    """Up to `count` photos spread over the catalogue, as the preprocessor prepares them: what
    INFERENCE_PRECISION=int8 calibrates on (the user's own photos), read only when it does."""

    root: Path
    preprocessor: ImagePreprocessor
    count: int = 64

    def __call__(self) -> list[Image.Image]:
        paths = list(iter_image_files(self.root)) if self.root.is_dir() else []
        images = []
        for path in paths[:: max(1, len(paths) // self.count)][: self.count]:
            try:
                images.append(self.preprocessor.prepare(path))
            except ImageError:
                continue
        if not images:
            raise ConfigError(
                f"INFERENCE_PRECISION=int8 calibrates on your photos: none found in {self.root}"
            )
        return images


class Models(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    embedding_observer = providers.Dependency(default=None)  # the API times batches with it
    cache = providers.Dependency()  # where query embeddings are kept (in memory)
    disk_cache = providers.Dependency()  # where photo embeddings are kept (on disk)

    torch_embedding_model = providers.ThreadSafeSingleton(  # device resolved when weights load
        create_embedding_model,
        name=settings.provided.embedding_model,
        device=settings.provided.device,
        num_threads=settings.provided.num_threads,
        state_dir=settings.provided.index_dir,
    )
    runtime_embedding_model = providers.ThreadSafeSingleton(  # INFERENCE_RUNTIME: ONNX or torch
        with_runtime,
        torch_embedding_model,
        runtime=settings.provided.inference_runtime,
        device=settings.provided.device,
        cache_dir=providers.Callable(_onnx_dir, settings),
        num_threads=settings.provided.num_threads,
    )
    preprocess_options = providers.ThreadSafeSingleton(preprocess_options, settings)
    rembg_preprocessor = providers.ThreadSafeSingleton(
        RembgPreprocessor,
        preprocess_options,
        model_name=settings.provided.rembg_model,
        model_path=settings.provided.rembg_model_path,
        num_threads=settings.provided.num_threads,
    )
    preprocessor = providers.Selector(  # PREPROCESSOR (USE_BG_REMOVAL=true means rembg)
        settings.provided.preprocessor_name,
        passthrough=providers.ThreadSafeSingleton(PadResizePreprocessor, preprocess_options),
        rembg=rembg_preprocessor,
    )
    precise_embedding_model = providers.ThreadSafeSingleton(  # INFERENCE_PRECISION: fp32 or int8
        with_precision,
        runtime_embedding_model,
        precision=settings.provided.inference_precision,
        calibration=providers.Factory(
            CatalogueSample, root=settings.provided.products_dir, preprocessor=preprocessor
        ),
    )
    embedding_model = providers.ThreadSafeSingleton(  # concurrent API requests share model calls
        MicroBatchingEmbedding, precise_embedding_model, max_batch=settings.provided.batch_size
    )
    detectors = providers.Dict(  # `segment` modes, keyed by SegmentMode
        {
            SegmentMode.QUICK: providers.ThreadSafeSingleton(
                ForegroundDetector, preprocess_options
            ),
            SegmentMode.ACCURATE: providers.ThreadSafeSingleton(
                ForegroundDetector,
                preprocess_options,
                mask=rembg_preprocessor.provided.foreground_mask,
            ),
            SegmentMode.DETECTOR: providers.ThreadSafeSingleton(  # OWLv2 / OWL-ViT, lazy
                build_detector,
                model_name=settings.provided.detector_model,
                options=preprocess_options,
                queries=settings.provided.detector_query_list,
                device=settings.provided.device,
            ),
        }
    )
    embedder = providers.ThreadSafeSingleton(
        Embedder,
        preprocessor=preprocessor,
        model=embedding_model,
        batch_size=settings.provided.batch_size,
        workers=settings.provided.decode_workers,
        on_prepared=providers.Callable(_writer, settings),
        on_batch=embedding_observer,
    )
    # query images: embedded once per content and model, reused by search, verdicts, classify,
    # classification by retrieval and calibrate
    query_embeddings = providers.Factory(CachedEmbeddings, embedder, cache)
    # photos of data sets: embedded once per content and model (kept on disk across runs),
    # reused by `split`'s leak check, `evaluate` and `train`
    image_embeddings = providers.Factory(CachedEmbeddings, embedder, disk_cache, kind="image")

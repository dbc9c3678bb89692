"""Shared runtime helpers: device choice, CPU threads and allocator tuning, common errors."""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import sys
import threading

import numpy as np
from PIL import Image

from app.domain.errors import BackendUnavailable, UnsupportedOperation

logger = logging.getLogger("app.embedding")

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLDS = (1 << 30, 1 << 25)  # glibc refuses values above HEAP_MAX/2; then try 32 MiB
_TRIM_THRESHOLD = 2**31 - 1

_configured = False
_configure_lock = threading.Lock()


def resolve_device(device: str) -> str:
    """ "auto" -> "cuda" when torch sees a GPU, else "cpu"; "cuda" without a GPU is an error."""
    import torch

    device = (device or "auto").strip().lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise BackendUnavailable(
            f"DEVICE={device} but torch sees no CUDA GPU; set DEVICE=cpu or DEVICE=auto"
        )
    return device


def configure_cpu(num_threads: int = 0) -> None:
    """Once per process: torch thread count (0 = all cores) and glibc allocator thresholds."""
    global _configured  # noqa: PLW0603 - a process-wide, once-only switch
    with _configure_lock:
        if _configured:
            return
        _configured = True
    import torch

    torch.set_num_threads(num_threads if num_threads > 0 else (os.cpu_count() or 1))
    _tune_glibc_malloc()


def _tune_glibc_malloc() -> bool:
    """Keep large activation buffers in the heap instead of returning them to the OS each batch.

    On glibc this roughly triples CPU throughput of convolutional models; elsewhere it does nothing.
    """
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        trimmed = libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD) == 1
        mapped = any(libc.mallopt(_M_MMAP_THRESHOLD, value) == 1 for value in _MMAP_THRESHOLDS)
    except (OSError, AttributeError) as error:
        logger.debug("mallopt unavailable: %s", error)
        return False
    return trimmed and mapped


def text_unsupported(model_id: str) -> UnsupportedOperation:
    """The error for a text query to an image-only model."""
    return UnsupportedOperation(
        f"{model_id} is image-only: text queries need a text-image model such as CLIP "
        "(EMBEDDING_MODEL=openai/clip-vit-base-patch32)"
    )


class EmbedImagesFromPixels:
    """`embed_images` for adapters that implement `to_pixels`, `embed_pixels` and `dim`."""

    def embed_images(self, images: list[Image.Image]) -> np.ndarray:
        if not images:
            return np.empty((0, self.dim), dtype=np.float32)
        return self.embed_pixels(np.stack([self.to_pixels(image) for image in images]))

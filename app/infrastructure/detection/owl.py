"""Object crops from an open-vocabulary detector (OWLv2 or OWL-ViT) through transformers.

The detector is asked text queries ("a photo of a product" by default); every box scoring above
the threshold, after non-maximum suppression, becomes a crop. torch and transformers load lazily,
once, behind a lock; the image processor uses the PIL backend (no torchvision needed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from app.domain.errors import BackendUnavailable
from app.domain.images import ImageInput
from app.domain.models import Crop
from app.infrastructure.embedding.hub import one_line
from app.infrastructure.embedding.runtime import resolve_device
from app.infrastructure.lazy import Lazy
from app.infrastructure.preprocessing.image_io import decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions

DEFAULT_QUERIES = ("a photo of a product",)
SUGGESTED_MODEL = "google/owlv2-base-patch16-ensemble"


@dataclass(frozen=True)
class _Loaded:
    model: Any
    image_processor: Any
    tokenizer: Any
    device: str


class OwlDetector:
    def __init__(
        self,
        model_name: str,
        options: PreprocessOptions,
        queries: tuple[str, ...] = DEFAULT_QUERIES,
        *,
        threshold: float = 0.1,
        device: str = "cpu",
        local_files_only: bool = False,
        nms_iou: float = 0.3,
        min_side: int = 4,
    ) -> None:
        self.model_name = model_name
        self._options = options
        self._queries = tuple(q.strip() for q in queries if q.strip()) or DEFAULT_QUERIES
        self._threshold = threshold
        self._device = device
        self._local_files_only = local_files_only
        self._nms_iou = nms_iou  # boxes overlapping a better one by more than this are dropped
        self._min_side = min_side  # smallest box side in pixels
        self._loaded: Lazy[_Loaded] = Lazy(self._load_now)

    def crops(self, path: Path, max_objects: int = 10) -> list[Crop]:
        image = decode_image(path, None, self._options)
        found = self.detect(image)[:max_objects]
        stem = Path(path).stem
        return [_cut(image, box, score, f"{stem}-{i}.png") for i, (box, score) in enumerate(found)]

    def detect(self, image: Image.Image) -> list[tuple[tuple[int, int, int, int], float]]:
        """(box, score) pairs in image pixels, best first, after NMS, clipping and size filter."""
        import torch

        loaded = self._loaded.get()
        text = loaded.tokenizer(
            list(self._queries),
            padding="max_length",
            truncation=True,
            return_tensors="pt",
        )
        pixels = loaded.image_processor(images=image, return_tensors="pt")
        inputs = {
            "input_ids": text["input_ids"],
            "attention_mask": text["attention_mask"],
            "pixel_values": pixels["pixel_values"],
        }
        inputs = {k: v.to(loaded.device) for k, v in inputs.items()}
        with torch.inference_mode():
            outputs = loaded.model(**inputs)
        result = loaded.image_processor.post_process_object_detection(
            outputs, threshold=self._threshold, target_sizes=[(image.height, image.width)]
        )[0]
        scores = result["scores"].detach().float().cpu().numpy()
        boxes = result["boxes"].detach().float().cpu().numpy().reshape(-1, 4)
        # OWLv2 boxes are in the padded square: clip to the image before comparing overlaps
        boxes = np.clip(boxes, 0.0, [image.width, image.height, image.width, image.height])
        keep = _nms(boxes, scores, self._nms_iou)
        found = []
        for index in keep:
            box = _clip(boxes[index], image.size)
            if box[2] - box[0] >= self._min_side and box[3] - box[1] >= self._min_side:
                found.append((box, float(scores[index])))
        return found

    def _load_now(self) -> _Loaded:
        device = resolve_device(self._device)  # "auto" -> cuda when torch sees a GPU
        try:
            from transformers import (
                AutoImageProcessor,
                AutoModelForZeroShotObjectDetection,
                AutoTokenizer,
            )

            kwargs = {"local_files_only": self._local_files_only}
            image_processor = AutoImageProcessor.from_pretrained(
                self.model_name, backend="pil", **kwargs
            )
            tokenizer = AutoTokenizer.from_pretrained(self.model_name, **kwargs)
            model = AutoModelForZeroShotObjectDetection.from_pretrained(self.model_name, **kwargs)
            model = model.eval().to(device)
        except Exception as error:
            raise BackendUnavailable(
                f"detector model {self.model_name!r} cannot be loaded ({one_line(error)}); "
                f"check DETECTOR_MODEL (e.g. {SUGGESTED_MODEL}), the network connection and "
                "the Hugging Face cache (HF_HOME)"
            ) from error
        return _Loaded(model, image_processor, tokenizer, device)


class UnconfiguredDetector:
    """Stands in for the detector while DETECTOR_MODEL is empty: every call says to set it."""

    def crops(self, path: Path, max_objects: int = 10) -> list[Crop]:
        raise BackendUnavailable(
            "no detector model is configured; set DETECTOR_MODEL to an OWLv2 / OWL-ViT model, "
            f"e.g. DETECTOR_MODEL={SUGGESTED_MODEL}"
        )


def build_detector(
    model_name: str, options: PreprocessOptions, queries: tuple[str, ...], device: str = "auto"
) -> OwlDetector | UnconfiguredDetector:
    """The `detector` segment mode: an OwlDetector, or a stand-in when no model is set."""
    if not model_name.strip():
        return UnconfiguredDetector()
    return OwlDetector(
        model_name.strip(), options, queries=queries or DEFAULT_QUERIES, device=device
    )


def _nms(boxes: np.ndarray, scores: np.ndarray, iou_limit: float) -> list[int]:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    order = list(np.argsort(-scores, kind="stable"))
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    kept: list[int] = []
    while order:
        best = order.pop(0)
        kept.append(int(best))
        if not order:
            break
        rest = np.array(order)
        x0 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y0 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x1 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y1 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        union = areas[best] + areas[rest] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
        order = [i for i, overlap in zip(order, iou, strict=True) if overlap <= iou_limit]
    return kept


def _clip(box: np.ndarray, size: tuple[int, int]) -> tuple[int, int, int, int]:
    w, h = size
    x0, y0, x1, y1 = (float(v) for v in box)
    return (
        int(min(max(0.0, x0), w)),
        int(min(max(0.0, y0), h)),
        int(min(max(0.0, round(x1)), w)),
        int(min(max(0.0, round(y1)), h)),
    )


def _cut(image: Image.Image, box: tuple[int, int, int, int], score: float, name: str) -> Crop:
    out = io.BytesIO()
    image.crop(box).save(out, format="PNG")
    return Crop(box=box, image=ImageInput.upload(name, out.getvalue()), score=score)

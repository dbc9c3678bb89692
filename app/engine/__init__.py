"""The documented Python surface, importable from one place, over the same container and services:

    from app.engine import (
        ImageSearchEngine, FeatureExtractor, EvaluationUtils, ClassificationByRetrieval,
    )
    engine = ImageSearchEngine()
    engine.build_index()
    engine.search("photo.jpg", top_k=5)   # [{"product_id": ..., "path": ..., "similarity": ...}]
    FeatureExtractor().extract_features("photo.jpg")          # (D,) unit-length float32
    EvaluationUtils.calculate_precision_at_k(true, ranked, k=5)
    model = ClassificationByRetrieval()   # torch module over the packaged EfficientNet-Lite0

`ClassificationByRetrieval` imports torch, so it is imported only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.engine.evaluation import EvaluationUtils
from app.engine.features import FeatureExtractor
from app.engine.search import ImageSearchEngine

if TYPE_CHECKING:
    from app.engine.cbr import ClassificationByRetrieval

__all__ = ["ClassificationByRetrieval", "EvaluationUtils", "FeatureExtractor", "ImageSearchEngine"]


def __getattr__(name: str) -> Any:
    if name == "ClassificationByRetrieval":
        from app.engine.cbr import ClassificationByRetrieval

        return ClassificationByRetrieval
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

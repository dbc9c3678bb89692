"""What classification answers look like (shared by zero-shot, trained heads and retrieval)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetrievalPrediction:
    """Classification by retrieval for one query embedding.

    `class_name` is None when `unclassifiable` is True; `reason` then says why (best similarity
    below the threshold, or too small a margin between the two best classes, or an empty gallery).
    `confidence` is the probability of the best class; `class_probabilities` holds the best
    classes (at most 10), best first. `similarity` is the cosine similarity of the nearest example.
    """

    class_name: str | None
    confidence: float
    unclassifiable: bool
    reason: str | None
    class_probabilities: dict[str, float]
    aggregation: str
    similarity: float | None = None


@dataclass(frozen=True)
class AttributePrediction:
    """One answer about an image: its category, or one attribute (colour, gender, ...).

    `source` says which method answered: "zero-shot", "trained", or "labels" (the labels file
    defines a single category, so there is nothing to choose). `value` is None when the answer is
    too unsure ("I don't know"); `reason` then says why, and `confidence` and `probabilities`
    still show the best guess. `probabilities` maps every class to its probability, best first.
    """

    name: str
    value: str | None
    confidence: float
    source: str
    probabilities: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class ImageClassification:
    """Everything `classify` says about one image."""

    image: str
    category: AttributePrediction | None = None
    attributes: list[AttributePrediction] = field(default_factory=list)
    retrieval: RetrievalPrediction | None = None
    notes: list[str] = field(default_factory=list)


def _top(prediction: AttributePrediction, k: int) -> dict[str, float]:
    return dict(list(prediction.probabilities.items())[:k])


def prediction_dict(prediction: AttributePrediction | None, k: int) -> dict | None:
    """One answer as JSON-ready data (`top`: its k most probable classes)."""
    if prediction is None:
        return None
    return {
        "value": prediction.value,
        "confidence": round(prediction.confidence, 6),
        "source": prediction.source,
        "unsure": prediction.value is None,
        "reason": prediction.reason,
        "top": _top(prediction, k),
    }


def retrieval_dict(retrieval: RetrievalPrediction | None) -> dict | None:
    if retrieval is None:
        return None
    return {
        "class": retrieval.class_name,
        "confidence": round(retrieval.confidence, 6),
        "unclassifiable": retrieval.unclassifiable,
        "reason": retrieval.reason,
    }


def classification_dict(result: ImageClassification, k: int = 3) -> dict:
    """What `classify --json` prints and `POST /classify` returns for one image."""
    return {
        "image": result.image,
        "category": prediction_dict(result.category, k),
        "attributes": {a.name: prediction_dict(a, k) for a in result.attributes},
        "retrieval": retrieval_dict(result.retrieval),
        "notes": result.notes,
    }

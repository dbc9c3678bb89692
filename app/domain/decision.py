"""From class probabilities to an answer, or an honest "I don't know"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.classification import AttributePrediction


@dataclass(frozen=True)
class AnswerThresholds:
    """An answer needs its best probability >= min_confidence and a lead of at least min_margin
    over the second best; otherwise it is "unsure" (value None) with the reason."""

    min_confidence: float = 0.0
    min_margin: float = 0.0


def decide(
    name: str,
    classes: list[str],
    probabilities: np.ndarray,
    source: str,
    thresholds: AnswerThresholds,
) -> AttributePrediction:
    """The prediction for one image from its (C,) probabilities over `classes`."""
    probs = np.asarray(probabilities, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")
    ranked = {classes[i]: round(float(probs[i]), 6) for i in order}
    best = classes[order[0]]
    confidence = float(probs[order[0]])
    second = float(probs[order[1]]) if len(order) > 1 else 0.0
    reason = _doubt(best, confidence, second, thresholds)
    return AttributePrediction(
        name=name,
        value=None if reason else best,
        confidence=confidence,
        source=source,
        probabilities=ranked,
        reason=reason,
    )


def _doubt(best: str, confidence: float, second: float, thresholds: AnswerThresholds) -> str | None:
    if confidence < thresholds.min_confidence:
        return (
            f"unsure: best guess {best!r} has probability {confidence:.3f} "
            f"< {thresholds.min_confidence:g}"
        )
    if confidence - second < thresholds.min_margin:
        return (
            f"unsure: best guess {best!r} leads the next class by {confidence - second:.3f} "
            f"< {thresholds.min_margin:g}"
        )
    return None


def certain(name: str, value: str, source: str) -> AttributePrediction:
    """An answer with nothing to choose from (e.g. the only category there is)."""
    return AttributePrediction(name, value, 1.0, source, {value: 1.0})

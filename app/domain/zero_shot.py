"""Zero-shot maths (CLIP-style): prompt ensembles, scaled cosine logits, softmax."""

from __future__ import annotations

import itertools

import numpy as np

from app.domain.scoring import l2_normalize

# CLIP learns its temperature; trained CLIP checkpoints end at exp(4.6052) = 100.
DEFAULT_LOGIT_SCALE = 100.0


def ensemble(prompt_vectors: np.ndarray, prompts_per_class: list[int]) -> np.ndarray:
    """One unit vector per class: the mean of its prompts' embeddings, L2-normalised.

    `prompt_vectors` holds the (unit) embeddings of every prompt, class after class;
    `prompts_per_class[i]` says how many rows belong to class i (the standard CLIP prompt ensemble).
    """
    vectors = np.asarray(prompt_vectors, dtype=np.float32)
    if sum(prompts_per_class) != len(vectors) or min(prompts_per_class, default=1) < 1:
        raise ValueError(f"{len(vectors)} prompt vectors do not split into {prompts_per_class}")
    bounds = np.cumsum([0, *prompts_per_class])
    means = [vectors[start:end].mean(axis=0) for start, end in itertools.pairwise(bounds)]
    return l2_normalize(np.stack(means)) if means else np.empty((0, vectors.shape[-1]))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, numerically stable, float64 rows summing to 1."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def zero_shot_probabilities(
    image_vectors: np.ndarray, class_vectors: np.ndarray, logit_scale: float
) -> np.ndarray:
    """(N, C) class probabilities: softmax(logit_scale * cosine(image, class))."""
    images = l2_normalize(image_vectors)
    classes = l2_normalize(class_vectors)
    return softmax(logit_scale * (images.astype(np.float64) @ classes.T.astype(np.float64)))

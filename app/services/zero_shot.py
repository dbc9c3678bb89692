"""Zero-shot classification with a text-image model: class prompts vs the image embedding.

The text embeddings of each prompt set (one ensemble vector per class) are computed once per
model and kept in memory and in a cache that outlives the process (on disk in the app). The key
holds the model stamp and a hash of the prompts, so editing the labels file or changing the model
recomputes exactly the prompt sets that changed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field

import numpy as np

from app.domain.errors import UnsupportedOperation
from app.domain.zero_shot import DEFAULT_LOGIT_SCALE, ensemble, zero_shot_probabilities
from app.interfaces.cache import Cache
from app.interfaces.embedding import EmbeddingModel

SET_MODEL_HINT = "set EMBEDDING_MODEL=openai/clip-vit-base-patch32"


@dataclass(eq=False)
class ZeroShotClassifier:
    model: EmbeddingModel
    cache: Cache
    logit_scale: float = DEFAULT_LOGIT_SCALE
    _memory: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def available(self) -> bool:
        return self.model.supports_text

    def unavailable_reason(self) -> str:
        return (
            f"zero-shot needs a text-image model (CLIP, SigLIP): {self.model.model_id} is "
            f"image-only ({SET_MODEL_HINT})"
        )

    def probabilities(self, image_vectors: np.ndarray, prompts: list[list[str]]) -> np.ndarray:
        """(N, C) probabilities of the C classes whose prompts are given, one list per class."""
        if not self.available:
            raise UnsupportedOperation(self.unavailable_reason())
        class_vectors = self.class_vectors(prompts)
        return zero_shot_probabilities(image_vectors, class_vectors, self.logit_scale)

    def class_vectors(self, prompts: list[list[str]]) -> np.ndarray:
        """(C, D) unit vectors: per class, the normalised mean of its prompts' text embeddings."""
        digest = hashlib.blake2b(json.dumps(prompts).encode(), digest_size=16).hexdigest()
        key = f"text:{self.model.stamp}:{digest}"
        with self._lock:
            vectors = self._memory.get(key)
            if vectors is None:
                vectors = self.cache.get(key)
            if vectors is None:
                flat = [prompt for per_class in prompts for prompt in per_class]
                texts = self.model.embed_texts(flat)
                vectors = ensemble(texts, [len(p) for p in prompts])
                self.cache.put(key, vectors)
            self._memory[key] = vectors
        return vectors

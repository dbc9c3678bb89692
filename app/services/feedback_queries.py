"""The query side of a verdict: a content hash, its embedding, and a kept copy of the image.

A query is an image (file or upload), copied content-addressed under the feedback folder so that
`feedback promote` and `feedback export` can use it later, or the id of a gallery image (its
stored vector and file are used).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

import numpy as np

from app.domain.errors import ImageError, NotFound
from app.domain.images import ImageInput
from app.interfaces.examples import ExampleStore
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.cached_embeddings import CachedEmbeddings
from app.services.pipeline import Embedder

QUERIES = "queries"  # the folder of kept query copies, under the feedback folder


@dataclass(frozen=True)
class JudgedQuery:
    content_hash: str
    vector: np.ndarray
    ref: str | None  # where the image is kept (None: not available)


@dataclass(eq=False)
class JudgedQueries:
    repository: Repository
    store: VectorStore
    embedder: Embedder
    embeddings: CachedEmbeddings
    files: ExampleStore
    _: KW_ONLY
    keep: int = 1000  # query copies kept at most (FEEDBACK_KEPT_QUERIES), newest first

    @property
    def stamp(self) -> str:
        return self.embedder.stamp

    def resolve(self, query: ImageInput | int) -> JudgedQuery:
        if isinstance(query, int):
            return self._gallery_image(query)
        kept = self.files.store(QUERIES, query)
        skipped: list = []
        copy = ImageInput.file(kept.path, kept.content_hash)
        vectors, _ = self.embeddings.embed([copy], skipped)
        if skipped:
            if kept.created:  # not an image we can use: keep no copy of it
                self.files.delete([str(kept.path)])
            raise ImageError(query.name, skipped[0].reason, skipped[0].kind)
        pruned = self.files.keep_newest(QUERIES, self.keep)
        ref = None if kept.path in pruned else str(kept.path)
        return JudgedQuery(kept.content_hash, vectors[0].astype(np.float32), ref)

    def _gallery_image(self, image_id: int) -> JudgedQuery:
        record = self.repository.get_images([image_id]).get(image_id)
        if record is None:
            raise NotFound(f"no gallery image with id {image_id}")
        vector = self.store.vectors(np.array([image_id], dtype=np.int64))[0]
        return JudgedQuery(record.content_hash, vector.astype(np.float32), record.path)

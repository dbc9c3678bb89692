"""Use case: "what looks like this photo?" (or this text) -> top-K catalogue images."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from functools import partial

import numpy as np

from app.domain.errors import IndexNotReady, ModelMismatch, NotFound, UnsupportedOperation
from app.domain.feedback import Refinement, rocchio
from app.domain.images import ImageInput
from app.domain.models import Outcome, QueryResult, SearchHit, SkippedFile
from app.domain.search_filters import IdFilter, Row, SearchOptions
from app.interfaces.repository import Repository
from app.interfaces.vector_store import VectorStore
from app.services.cached_embeddings import CachedEmbeddings
from app.services.gallery_guard import GalleryGuard
from app.services.pipeline import Embedder
from app.services.reranking import FeedbackReranker
from app.services.scanning import expand_images
from app.services.search_focus import FocusedSearch

SearchOutcome = Outcome[QueryResult]


@dataclass(eq=False)
class SearchService:
    repository: Repository
    store: VectorStore
    embedder: Embedder
    embeddings: CachedEmbeddings  # query embeddings, computed once per image content
    default_k: int = 5
    _: KW_ONLY
    reranker: FeedbackReranker | None = None  # feedback re-ranking (None: off)
    guard: GalleryGuard = field(default_factory=GalleryGuard)  # follows saves of other processes
    rocchio: Refinement = field(default_factory=Refinement)  # weights of --more-like/--less-like

    def search_images(
        self,
        images: Sequence[ImageInput],
        k: int | None = None,
        options: SearchOptions | None = None,
        *,
        more_like: Sequence[int] = (),
        less_like: Sequence[int] = (),
    ) -> SearchOutcome:
        """Search with each image: files, folders (recursively) or uploads. Bad ones land in
        `skipped`. `more_like` / `less_like` gallery ids move the queries toward / away from
        those images (Rocchio, with the configured weights); `options` filters by product or
        folder, keeps one hit per product, cuts weak hits."""
        refine = replace(self.rocchio, more_like=tuple(more_like), less_like=tuple(less_like))
        self._check_index()
        files = expand_images(images)
        outcome = SearchOutcome()
        vectors, kept = self._query_vectors(files, outcome.skipped)
        if kept:
            if refine:
                vectors = self._refined(vectors, refine)
            changes = self._changes(vectors)
            rows = self._search(vectors, k or self.default_k, options or SearchOptions(), changes)
            outcome.results = [
                QueryResult(image.name, self._to_hits(row, change), cut)
                for image, change, (row, cut) in zip(kept, changes, rows, strict=True)
            ]
        return outcome

    def search_text(
        self, text: str, k: int | None = None, options: SearchOptions | None = None
    ) -> QueryResult:
        self._check_index()
        model = self.embedder.model
        if not model.supports_text:
            raise UnsupportedOperation(
                f"text queries need a text-image model; {model.model_id} is image-only "
                "(set EMBEDDING_MODEL=openai/clip-vit-base-patch32 and run rebuild)"
            )
        vector = model.embed_texts([text])
        [change] = changes = self._changes(vector)
        [(row, cut)] = self._search(
            vector, k or self.default_k, options or SearchOptions(), changes
        )
        return QueryResult(text, self._to_hits(row, change), cut)

    def _search(
        self, vectors: np.ndarray, k: int, options: SearchOptions, changes: list[dict[str, float]]
    ) -> list[tuple[Row, int]]:
        """`changes`: feedback's score change per product, one dict per query row."""
        higher_is_better = self.store.metric == "cosine"
        rank = partial(self._ranked, changes=changes)
        focused = FocusedSearch(self.repository, rank, len(self.store), higher_is_better)
        return focused.rows(vectors, k, options)

    def _ranked(
        self,
        vectors: np.ndarray,
        k: int,
        where: IdFilter | None,
        changes: list[dict[str, float]],
    ) -> list[Row]:
        """The store's best k (re-ranked by feedback when that is on)."""
        if self.reranker is None:
            return self.store.search(vectors, k, where)
        rows = self.store.search(vectors, self.reranker.depth(k), where)
        return [row[:k] for row in self.reranker.rerank(rows, changes)]

    def _refined(self, vectors: np.ndarray, refine: Refinement) -> np.ndarray:
        ids = [*refine.more_like, *refine.less_like]
        known = self.repository.get_images(ids)
        missing = [str(i) for i in ids if i not in known]
        if missing:
            raise NotFound(f"no gallery image with id {', '.join(missing)}")
        return rocchio(
            vectors, self._vectors(refine.more_like), self._vectors(refine.less_like), refine
        )

    def _vectors(self, ids: tuple[int, ...]) -> np.ndarray:
        if not ids:
            return np.empty((0, 0), dtype=np.float32)
        return self.store.vectors(np.array(ids, dtype=np.int64))

    def _check_index(self) -> None:
        self.guard.follow()
        built_with = self.store.model_stamp
        if built_with is None or len(self.store) == 0:
            raise IndexNotReady(
                self.store.load_problem or "the index is empty: run `rebuild` first"
            )
        if built_with != self.embedder.stamp:
            raise ModelMismatch(
                f"index built with {built_with}, current model is {self.embedder.stamp}: "
                "run `rebuild`"
            )

    def _query_vectors(
        self, files: list[ImageInput], skipped: list[SkippedFile]
    ) -> tuple[np.ndarray, list[ImageInput]]:
        """Embeddings of the query images, from the cache where the same bytes were seen."""
        return self.embeddings.embed(files, skipped)

    def _to_hits(self, row: Row, changes: dict[str, float]) -> list[SearchHit]:
        records = self.repository.get_images(image_id for image_id, _ in row)
        hits = []
        for image_id, ranked_by in row:
            record = records.get(image_id)
            if record is None:
                continue  # a vector whose row is gone: the next rebuild drops it
            adjustment = changes.get(record.product_id, 0.0)
            hits.append(
                SearchHit(
                    len(hits) + 1, float(ranked_by - adjustment), image_id, record.product_id,
                    record.path, record.parent_id, record.box, adjustment=round(adjustment, 6),
                )
            )  # fmt: skip
        return hits

    def _changes(self, vectors: np.ndarray) -> list[dict[str, float]]:
        """Per query row: feedback's score change per product (computed once per search)."""
        if self.reranker is None:
            return [{} for _ in range(len(vectors))]
        return self.reranker.changes(vectors, self.embedder.stamp)

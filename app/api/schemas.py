"""Response models of the JSON endpoints: the OpenAPI schema documents each answer's fields.

Routes build these from the services' dataclasses (and the domain's `*_dict` helpers), so the
wire shape stays one shape per answer whether a client is the web page, curl or the CLI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.api.gallery_schemas import Skipped
from app.domain.choices import Verdict


class SearchHitOut(BaseModel):
    rank: int = Field(description="1 = most similar")
    score: float = Field(
        description="the metric's own score: cosine similarity (higher is better) or squared L2 "
        "distance (lower is better), before feedback re-ranking"
    )
    adjustment: float | None = Field(
        None,
        description="feedback re-ranking's change (present when it moved this hit): hits are "
        "ordered by score + adjustment",
    )
    image_id: int = Field(description="gallery image id (thumbnail: /images/{id}/thumbnail)")
    product_id: str = Field(description="the product (class) the image belongs to")
    path: str
    parent_id: int | None = Field(None, description="for an object crop: the image it came from")
    box: list[int] | None = Field(None, description="for an object crop: x0, y0, x1, y1")


class SearchResponse(BaseModel):
    query: str = Field(description="the query's file name, or the query text")
    hits: list[SearchHitOut]
    cut: int = Field(0, description="hits left out by min_score / relative")


class SkippedOut(BaseModel):
    file: str
    reason: str


class RebuildResult(BaseModel):
    scanned: int
    embedded: int
    unchanged: int
    removed: int
    skipped: list[SkippedOut] = Field(description="files that could not be used, with reasons")
    seconds: float


class JobAccepted(BaseModel):
    status: Literal["accepted"]
    job_id: str
    url: str = Field(description="follow the job here")


class JobOut(BaseModel):
    id: str
    kind: str = Field(description="what the job does, e.g. rebuild")
    status: Literal["queued", "running", "done", "failed"]
    total: int = Field(description="work items in the current phase")
    done: int = Field(description="work items finished in the current phase")
    progress: float | None = Field(description="done / total, null before the total is known")
    started_at: float = Field(description="Unix time")
    finished_at: float | None
    result: RebuildResult | None = Field(description="the report, once done")
    error: str | None = Field(description="why it failed")


class JobList(BaseModel):
    jobs: list[JobOut] = Field(description="most recent first")


class IndexOut(BaseModel):
    kind: str = Field(description="vector store type, e.g. faiss-flat, memory, qdrant")
    size: int
    dim: int | None
    metric: str
    model_stamp: str | None = Field(description="the model that produced the stored vectors")
    bytes_on_disk: int


class StatsOut(BaseModel):
    images: int
    products: int
    images_per_product: dict[str, int]
    index: IndexOut
    model_stamp: str = Field(description="the current model and preprocessing")
    text_search: bool = Field(description="whether the current model can search by text")
    last_rebuild: datetime | None
    indexed: int = Field(description="images with a vector from the index's model")
    pending: int = Field(description="images waiting for `rebuild`")


class DependencyOut(BaseModel):
    status: Literal["ok", "loading", "unavailable"]
    detail: str


class HealthOut(BaseModel):
    status: Literal["ok"]
    version: str
    index_size: int | None
    index_model: str | None
    model_loaded: bool
    checks: dict[str, DependencyOut] = Field(description="database, index, model")


class JudgementOut(BaseModel):
    id: int | None
    verdict: Verdict
    product_id: str
    image_id: int | None
    query_hash: str
    query_image: str | None = Field(description="the stored copy of the query image")
    note: str | None
    model: str
    promoted: bool
    created_at: str | None = Field(description="ISO 8601")


class FeedbackList(BaseModel):
    status: Literal["success"]
    feedback: list[JudgementOut]
    next_after_id: int | None = Field(
        None, description="pass as after_id for the next page (null: this was the last page)"
    )


class DisputedOut(BaseModel):
    product_id: str
    good: int
    bad: int


class FeedbackStatsOut(BaseModel):
    status: Literal["success"]
    total: int
    good: int
    bad: int
    products: int
    most_disputed: list[DisputedOut]


class FeedbackCleared(BaseModel):
    status: Literal["success"]
    cleared: int


class PromoteOut(BaseModel):
    status: Literal["success"]
    promoted: dict[str, int] = Field(description="class -> examples added")
    hard_negatives: int
    skipped: list[SkippedOut]


class ImageOut(BaseModel):
    id: int
    product_id: str
    source: str = Field(description="catalogue (rebuild), example (class commands) or crop")
    thumbnail: str = Field(description="URL of its thumbnail")


class ImageList(BaseModel):
    total: int = Field(description="images of the product in all (the list may be cut short)")
    images: list[ImageOut]


class PredictionOut(BaseModel):
    value: str | None = Field(description="the answer; null when too unsure")
    confidence: float
    source: str = Field(description="zero-shot, trained or labels")
    unsure: bool
    reason: str | None = Field(description="why the answer is unsure")
    top: dict[str, float] = Field(description="the k most probable classes, best first")


class RetrievalOut(BaseModel):
    class_name: str | None = Field(alias="class", description="null when unclassifiable")
    confidence: float
    unclassifiable: bool
    reason: str | None


class ImageClassificationOut(BaseModel):
    image: str = Field(description="the uploaded file's name")
    category: PredictionOut | None
    attributes: dict[str, PredictionOut]
    retrieval: RetrievalOut | None = Field(description="classification by retrieval")
    notes: list[str] = Field(description="why parts are missing, e.g. an image-only model")


class ClassifyOut(BaseModel):
    status: Literal["success"]
    results: list[ImageClassificationOut]
    skipped: list[Skipped] = Field(description="uploads that could not be used")


class DuplicateImage(BaseModel):
    image_id: int
    path: str = Field(description="relative to the catalogue or examples folder")
    product_id: str


class DuplicateGroup(BaseModel):
    images: list[DuplicateImage]
    similarity: float = Field(description="the lowest cosine similarity of the group's pairs")
    conflict: bool = Field(
        description="the group spans more than one product: a likely label error"
    )
    pairs: list[tuple[int, int, float]] = Field(description="[image_id, image_id, similarity]")


class DuplicatesResponse(BaseModel):
    threshold: float
    images: int = Field(description="gallery images compared")
    groups: list[DuplicateGroup] = Field(description="conflicts first, then by similarity")

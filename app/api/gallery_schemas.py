"""The answers of the classification-by-retrieval and catalogue-writing endpoints, as pydantic
models, so that /docs and /openapi.json document every field.

The fields named in the documented CbR service API (`num_classes`, `num_examples`,
`available_classes`, `examples_per_class`, `message`, `predicted_class`, `confidence`,
`class_probabilities`) are here beside img-recog's richer ones: the answers are supersets.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.domain.choices import SegmentMode


class Skipped(BaseModel):
    file: str = Field(description="the uploaded file's name")
    reason: str
    code: int = Field(description="the HTTP status this file alone would have had")


class ModelInfo(BaseModel):
    status: Literal["success"] = "success"
    model: str = Field(description="the current model and preprocessing")
    gallery_model: str | None = Field(description="what made the gallery's vectors")
    gallery_size: int = Field(description="vectors in the gallery")
    num_classes: int
    num_examples: int = Field(description="examples of every class (catalogue, added, crops)")
    available_classes: list[str] = Field(description="class names, sorted")
    examples_per_class: dict[str, int]
    examples: dict[str, list[int]] = Field(
        description="each class's example ids. Ids are stable (never positions): DELETE "
        "/examples takes them, and they do not change when other examples are removed"
    )
    total_classes: int = Field(description="same as num_classes")
    classes: dict[str, int] = Field(description="catalogue photos + added examples per class")
    examples_per_source: dict[str, dict[str, int]]


class ClassChange(BaseModel):
    status: Literal["success"] = "success"
    message: str = Field(examples=["Added class 'cat' with 2 examples"])
    class_name: str
    examples_added: int
    examples_already_present: int = Field(
        0, description="images sent that the class already held (same content): not added again"
    )
    examples_removed: int
    example_ids: list[int] = Field(description="ids of the examples added")
    num_examples: int = Field(description="examples of this class after the change")
    skipped: list[Skipped] = Field(description="files that were not images; the rest were used")
    num_classes: int
    available_classes: list[str] = Field(description="class names, sorted")
    total_classes: int = Field(description="same as num_classes")
    classes: list[str] = Field(description="same as available_classes")


class ExamplesRemoved(BaseModel):
    status: Literal["success"] = "success"
    message: str = Field(examples=["Removed 2 examples"])
    removed_ids: list[int]
    classes_affected: list[str]
    num_examples: int = Field(description="examples left in the gallery, every class")


class Prediction(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # read from a RetrievalPrediction

    status: Literal["success"] = "success"
    predicted_class: str | None = Field(
        description="null when unclassifiable", validation_alias="class_name"
    )
    confidence: float = Field(description="probability of the best class")
    class_probabilities: dict[str, float] = Field(description="the best classes, best first")
    unclassifiable: bool
    reason: str | None = Field(description="why unclassifiable")
    similarity: float | None = Field(description="cosine similarity of the nearest example")
    aggregation: str


class Uploaded(BaseModel):
    status: Literal["success"] = "success"
    id: int = Field(description="the image id, for /segment/{id} and DELETE /examples")
    product_id: str
    path: str


class SegmentRequest(BaseModel):
    mode: SegmentMode = SegmentMode.QUICK


class CropOut(BaseModel):
    id: int
    product_id: str
    box: list[int] = Field(description="left, top, right, bottom in the parent image")
    path: str


class Segmented(BaseModel):
    status: Literal["success"] = "success"
    parent_id: int
    mode: SegmentMode
    crops: list[CropOut]

"""Classification by retrieval over HTTP: the gallery's classes, live, and predictions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import Field

from app.api.deps import ContainerDep, ImageDep, ImagesDep
from app.api.errors import image_status
from app.api.security import require_api_key
from app.domain.choices import Aggregation
from app.domain.errors import ImageError
from app.domain.gallery import MAX_ID, GalleryChange, GalleryInfo
from app.domain.models import SkippedFile

router = APIRouter(tags=["classification by retrieval"])
ClassName = Annotated[str, Path(min_length=1, max_length=100)]
ExampleId = Annotated[int, Field(ge=1, le=MAX_ID)]
AggregationParam = Annotated[Aggregation | None, Query()]


def _info_body(info: GalleryInfo) -> dict[str, Any]:
    return {
        "status": "success",
        "model": info.current_model,
        "gallery_model": info.model_stamp,
        "gallery_size": info.size,
        "total_classes": len(info.classes),
        "classes": {c.class_name: c.total for c in info.classes},
        "examples_per_source": {
            c.class_name: {"catalogue": c.catalogue, "example": c.examples} for c in info.classes
        },
    }


def _change_body(change: GalleryChange, verb: str, container) -> dict[str, Any]:
    info = container.gallery_service().info()
    return {
        "status": "success",
        "message": f"class '{change.class_name}' {verb}",
        "class_name": change.class_name,
        "examples_added": len(change.added),
        "examples_removed": len(change.removed),
        "example_ids": [r.id for r in change.added],
        "skipped": [_skipped(s) for s in change.skipped],
        "total_classes": len(info.classes),
        "classes": sorted(c.class_name for c in info.classes),
    }


def _skipped(s: SkippedFile) -> dict[str, Any]:
    return {"file": s.path, "reason": s.reason, "code": image_status(s.reason)}


@router.get("/model/info")
def model_info(container: ContainerDep) -> dict[str, Any]:
    return _info_body(container.gallery_service().info())


@router.post("/class/add/{name}", dependencies=[Depends(require_api_key)])
def add_class(name: ClassName, images: ImagesDep, container: ContainerDep) -> dict[str, Any]:
    change = container.gallery_service().add_class(name, images)
    return _change_body(change, "added", container)


@router.post("/class/update/{name}", dependencies=[Depends(require_api_key)])
def update_class(
    name: ClassName,
    images: ImagesDep,
    container: ContainerDep,
    append: Annotated[bool, Query(description="false replaces every example")] = True,
) -> dict[str, Any]:
    change = container.gallery_service().update_class(name, images, replace_all=not append)
    return _change_body(change, "updated" if append else "replaced", container)


@router.delete("/class/{name}", dependencies=[Depends(require_api_key)])
def remove_class(name: ClassName, container: ContainerDep) -> dict[str, Any]:
    change = container.gallery_service().remove_class(name)
    return _change_body(change, "removed", container)


@router.delete("/examples", dependencies=[Depends(require_api_key)])
def remove_examples(
    container: ContainerDep,
    ids: Annotated[list[ExampleId], Body(description="example (image) ids", min_length=1)],
) -> dict[str, Any]:
    removed = container.gallery_service().remove_examples(ids)
    return {
        "status": "success",
        "message": f"removed {len(removed)} examples",
        "removed_ids": [r.id for r in removed],
        "classes_affected": sorted({r.product_id for r in removed}),
    }


@router.post("/predict")
def predict(
    image: ImageDep, container: ContainerDep, aggregation: AggregationParam = None
) -> dict[str, Any]:
    outcome = container.retrieval_classifier().predict_images([image], aggregation)
    if outcome.skipped:
        raise ImageError(outcome.skipped[0].path, outcome.skipped[0].reason)
    p = outcome.predictions[0]
    return {
        "status": "success",
        "predicted_class": p.class_name,
        "confidence": p.confidence,
        "unclassifiable": p.unclassifiable,
        "reason": p.reason,
        "similarity": p.similarity,
        "class_probabilities": p.class_probabilities,
        "aggregation": p.aggregation,
    }

"""Classification by retrieval over HTTP: the gallery's classes, live, and predictions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Form, Path, Query
from pydantic import Field

from app.api.deps import ContainerDep, ImageDep, ImagesDep
from app.api.errors import image_status
from app.api.gallery_schemas import ClassChange, ExamplesRemoved, ModelInfo, Prediction, Skipped
from app.api.security import require_api_key
from app.domain.choices import Aggregation
from app.domain.errors import InvalidInput
from app.domain.gallery import MAX_ID, MAX_IDS_PER_CALL, GalleryChange
from app.domain.models import SkippedFile, first_failure

router = APIRouter(tags=["classification by retrieval"])
ClassName = Annotated[str, Path(min_length=1, max_length=100)]
ExampleId = Annotated[int, Field(ge=1, le=MAX_ID)]
AggregationParam = Annotated[Aggregation | None, Query()]
APPEND_HELP = "true appends (the default); false replaces every example of the class"


def _plural(n: int) -> str:
    return f"{n} example" if n == 1 else f"{n} examples"


def _change_body(change: GalleryChange, message: str, container) -> ClassChange:
    service = container.gallery_service()
    classes = sorted(c.class_name for c in service.info().classes)
    size = len(service.examples(change.class_name)) if change.class_name in classes else 0
    return ClassChange(
        message=message,
        class_name=change.class_name,
        examples_added=len(change.added),
        examples_already_present=len(change.already_present),
        examples_removed=len(change.removed),
        example_ids=[r.id for r in change.added],
        num_examples=size,
        skipped=[_skipped(s) for s in change.skipped],
        num_classes=len(classes),
        available_classes=classes,
        total_classes=len(classes),
        classes=classes,
    )


def _skipped(s: SkippedFile) -> Skipped:
    return Skipped(file=s.path, reason=s.reason, code=image_status(s.kind))


@router.get("/model/info")
def model_info(container: ContainerDep) -> ModelInfo:
    """The gallery: its classes, how many examples each has, and every example's stable id."""
    service = container.gallery_service()
    info, ids = service.info(), service.example_ids()
    names = sorted({c.class_name for c in info.classes} | set(ids))
    return ModelInfo(
        model=info.current_model,
        gallery_model=info.model_stamp,
        gallery_size=info.size,
        num_classes=len(names),
        num_examples=sum(len(v) for v in ids.values()),
        available_classes=names,
        examples_per_class={name: len(ids.get(name, [])) for name in names},
        examples={name: ids.get(name, []) for name in names},
        total_classes=len(names),
        classes={c.class_name: c.total for c in info.classes},
        examples_per_source={
            c.class_name: {"catalogue": c.catalogue, "example": c.examples} for c in info.classes
        },
    )


@router.post("/class/add/{name}", dependencies=[Depends(require_api_key)])
def add_class(name: ClassName, images: ImagesDep, container: ContainerDep) -> ClassChange:
    """A new class from one or more images (`-F files=@a.jpg -F files=@b.jpg`)."""
    change = container.gallery_service().add_class(name, images)
    return _change_body(
        change, f"Added class '{name}' with {_plural(len(change.added))}", container
    )


@router.post("/class/update/{name}", dependencies=[Depends(require_api_key)])
def update_class(
    name: ClassName,
    images: ImagesDep,
    container: ContainerDep,
    append_query: Annotated[bool | None, Query(alias="append", description=APPEND_HELP)] = None,
    append_form: Annotated[bool | None, Form(alias="append", description=APPEND_HELP)] = None,
) -> ClassChange:
    """Add examples to a class, or replace them all: `append` is a form field (`-F append=false`)
    or a query parameter (`?append=false`)."""
    append = _one_append(append_query, append_form)
    change = container.gallery_service().update_class(name, images, replace_all=not append)
    present = f" ({len(change.already_present)} already present)" * bool(change.already_present)
    message = (
        f"Appended {_plural(len(change.added))} to class '{name}'{present}"
        if append
        else f"Replaced the examples of class '{name}' with {_plural(len(change.stored))}"
    )
    return _change_body(change, message, container)


def _one_append(query: bool | None, form: bool | None) -> bool:
    if query is not None and form is not None and query != form:
        raise InvalidInput("append given twice with different values (query and form field)")
    return next((v for v in (form, query) if v is not None), True)


@router.delete("/class/{name}", dependencies=[Depends(require_api_key)])
def remove_class(name: ClassName, container: ContainerDep) -> ClassChange:
    change = container.gallery_service().remove_class(name)
    message = f"Removed class '{name}' ({_plural(len(change.removed))})"
    return _change_body(change, message, container)


@router.delete("/examples", dependencies=[Depends(require_api_key)])
def remove_examples(
    container: ContainerDep,
    ids: Annotated[
        list[ExampleId],
        Body(
            description="example ids as listed by /model/info (stable ids, not positions)",
            min_length=1,
            max_length=MAX_IDS_PER_CALL,
        ),
    ],
) -> ExamplesRemoved:
    """Remove examples by id; an unknown id answers 404 naming it, and nothing is removed."""
    service = container.gallery_service()
    removed = service.remove_examples(ids)
    return ExamplesRemoved(
        message=f"Removed {_plural(len(removed))}",
        removed_ids=[r.id for r in removed],
        classes_affected=sorted({r.product_id for r in removed}),
        num_examples=sum(len(v) for v in service.example_ids().values()),
    )


@router.post("/predict")
def predict(
    image: ImageDep, container: ContainerDep, aggregation: AggregationParam = None
) -> Prediction:
    """The class of one photo (`-F file=@x.jpg`), with the probability of each best class."""
    outcome = container.retrieval_classifier().predict_images([image], aggregation)
    if outcome.skipped:
        raise first_failure(outcome.skipped)
    return Prediction.model_validate(outcome.predictions[0])

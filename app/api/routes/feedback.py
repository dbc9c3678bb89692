"""Feedback over HTTP: record verdicts on results, list and count them, promote confirmed ones."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from app.api.deps import ContainerDep, upload_limit
from app.api.paths import public_path
from app.api.schemas import FeedbackCleared, FeedbackList, FeedbackStatsOut, PromoteOut
from app.api.security import read_upload, require_api_key
from app.domain.errors import InvalidInput
from app.domain.feedback import Judgement, judgement_dict, stats_dict
from app.domain.gallery import MAX_ID
from app.services.feedback import Target

router = APIRouter(tags=["feedback"])
DEFAULT_PAGE, MAX_PAGE = 100, 1000  # verdicts per GET /feedback page
Id = Annotated[int | None, Form(ge=1, le=MAX_ID)]


@router.post("/feedback", dependencies=[Depends(require_api_key)], response_model=FeedbackList)
def record(
    *,
    container: ContainerDep,
    limit: Annotated[int, Depends(upload_limit)],
    verdict: Annotated[Literal["good", "bad"], Form()],
    file: Annotated[UploadFile | None, File(description="the query image")] = None,
    query_id: Annotated[Id, Form(description="or: a gallery image used as the query")] = None,
    product_id: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
    image_id: Annotated[Id, Form(description="the gallery image judged (a hit)")] = None,
    note: Annotated[str | None, Form(max_length=1000)] = None,
) -> dict[str, Any]:
    """One verdict on a product (class) or a gallery image, for a query image or its id."""
    if (file is None) == (query_id is None):
        raise InvalidInput("give the query as a file or as query_id (one of them)")
    query = read_upload(file, limit) if file is not None else query_id
    judged = container.feedback_service().record(
        query, [Target(product_id, image_id)], verdict, note
    )
    return {"status": "success", "feedback": _shown(judged, container)}


@router.get("/feedback", response_model=FeedbackList)
def list_feedback(
    container: ContainerDep,
    product_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    after_id: Annotated[int, Query(ge=0, le=MAX_ID, description="ids above this one")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> dict[str, Any]:
    """Verdicts in id order, one page at a time (follow `next_after_id`)."""
    judged = container.feedback_service().list(product_id, after_id, limit)
    last = judged[-1].id if len(judged) == limit else None
    return {"status": "success", "feedback": _shown(judged, container), "next_after_id": last}


@router.get("/feedback/stats", response_model=FeedbackStatsOut)
def feedback_stats(container: ContainerDep) -> dict[str, Any]:
    return {"status": "success", **stats_dict(container.feedback_service().stats())}


@router.delete("/feedback", dependencies=[Depends(require_api_key)], response_model=FeedbackCleared)
def clear_feedback(container: ContainerDep) -> dict[str, Any]:
    return {"status": "success", "cleared": container.feedback_service().clear()}


@router.post(
    "/feedback/promote", dependencies=[Depends(require_api_key)], response_model=PromoteOut
)
def promote(container: ContainerDep) -> dict[str, Any]:
    """Confirmed verdicts become gallery examples of their class."""
    report = container.feedback_curation().promote()
    return {
        "status": "success",
        "promoted": report.promoted,
        "hard_negatives": report.hard_negatives,
        "skipped": [
            {"file": public_path(s.path, container.settings()), "reason": s.reason}
            for s in report.skipped
        ],
    }


def _shown(judged: list[Judgement], container) -> list[dict[str, Any]]:
    """Verdicts as answers show them: the kept query image relative to its folder."""
    settings = container.settings()
    return [judgement_dict(j) | {"query_image": public_path(j.query_ref, settings)} for j in judged]

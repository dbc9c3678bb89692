"""`classify` over HTTP: category and attributes (zero-shot / trained heads) and retrieval."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import ContainerDep, ImagesDep
from app.api.errors import image_status
from app.api.schemas import ClassifyOut
from app.domain.classification import classification_dict
from app.domain.models import first_failure

router = APIRouter(tags=["classification"])


@router.post("/classify", response_model=ClassifyOut)
def classify(
    images: ImagesDep,
    container: ContainerDep,
    use_trained: Annotated[bool, Query(description="use trained attribute heads")] = False,
    k: Annotated[int, Query(ge=1, le=100, description="top classes per answer")] = 3,
) -> dict[str, Any]:
    """The same answer as `classify --json`, one object per uploaded image."""
    outcome = container.classify_service().classify_images(images, use_trained)
    if outcome.skipped and not outcome.results:
        raise first_failure(outcome.skipped)
    return {
        "status": "success",
        "results": [classification_dict(r, k) for r in outcome.results],
        "skipped": [
            {"file": s.path, "reason": s.reason, "code": image_status(s.kind)}
            for s in outcome.skipped
        ],
    }

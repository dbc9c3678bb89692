"""Catalogue hygiene over HTTP: near-duplicate groups and label conflicts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.deps import ContainerDep
from app.api.paths import public_path
from app.api.schemas import DuplicatesResponse
from app.domain.duplicates import DedupScope
from app.services.dedup import DedupOptions

router = APIRouter(tags=["catalogue"])


@router.get("/duplicates", response_model=DuplicatesResponse)
def duplicates(
    container: ContainerDep,
    threshold: Annotated[float | None, Query(ge=-1.0, le=1.0)] = None,
    conflicts_only: bool = False,
    scope: DedupScope = DedupScope.ALL,
) -> DuplicatesResponse:
    """Groups of near-duplicate gallery images (cosine similarity >= `threshold`, default
    DEDUP_THRESHOLD; byte-identical files always), those spanning products (`conflict`) first.
    `scope=within` keeps pairs of one product, `across` pairs of two."""
    if threshold is None:
        threshold = container.settings().dedup_threshold
    options = DedupOptions(threshold=threshold, scope=scope, conflicts_only=conflicts_only)
    report = container.dedup_service().find(options)
    settings = container.settings()
    groups = [group.as_dict() for group in report.groups]
    for group in groups:  # no server paths in answers
        for image in group["images"]:
            image["path"] = public_path(image["path"], settings)
    return DuplicatesResponse(threshold=threshold, images=report.images, groups=groups)

"""Catalogue hygiene over HTTP: near-duplicate groups and label conflicts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.api.deps import ContainerDep
from app.domain.duplicates import DedupScope
from app.services.dedup import DedupOptions

router = APIRouter(tags=["catalogue"])


@router.get("/duplicates")
def duplicates(
    container: ContainerDep,
    threshold: Annotated[float | None, Query(ge=-1.0, le=1.0)] = None,
    conflicts_only: bool = False,
    scope: DedupScope = DedupScope.ALL,
) -> dict[str, Any]:
    """Groups of near-duplicate gallery images (cosine similarity >= `threshold`, default
    DEDUP_THRESHOLD; byte-identical files always), those spanning products (`conflict`) first.
    `scope=within` keeps pairs of one product, `across` pairs of two."""
    if threshold is None:
        threshold = container.settings().dedup_threshold
    options = DedupOptions(threshold=threshold, scope=scope, conflicts_only=conflicts_only)
    report = container.dedup_service().find(options)
    return {
        "threshold": threshold,
        "images": report.images,
        "groups": [group.as_dict() for group in report.groups],
    }

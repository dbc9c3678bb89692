"""What the web page looks at: catalogue stats, a class's images and thumbnails by image id."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from app.api.deps import ContainerDep
from app.api.schemas import ImageList, ImageOut, StatsOut
from app.domain.gallery import MAX_ID

router = APIRouter(tags=["browse"])
CACHE_CONTROL = "public, max-age=600"
_JPEG = {200: {"content": {"image/jpeg": {}}, "description": "the thumbnail (JPEG)"}}


@router.get("/stats", response_model=StatsOut)
def stats(container: ContainerDep) -> StatsOut:
    """What is in the catalogue and the index (the same answer as `stats --json`)."""
    return StatsOut.model_validate(asdict(container.stats_service().get()))


@router.get("/images", response_model=ImageList)
def images(
    container: ContainerDep,
    product_id: Annotated[str, Query(min_length=1, max_length=200, description="the class")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> ImageList:
    """The first `limit` images of a product (class), in id order, with thumbnail URLs."""
    page = container.browse_service().images(product_id, limit)
    return ImageList(
        total=page.total,
        images=[
            ImageOut(
                id=r.id or 0,
                product_id=r.product_id,
                source=r.source,
                thumbnail=f"/images/{r.id}/thumbnail",
            )
            for r in page.images
        ],
    )


@router.get("/images/{image_id}/thumbnail", response_class=Response, responses=_JPEG)
def thumbnail(
    container: ContainerDep,
    image_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    size: Annotated[int, Query(ge=16, le=1024, description="longest side, pixels")] = 256,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A gallery image shrunk server-side (JPEG), by id only; 404 for unknown ids. Cached by
    the browser (Cache-Control) and revalidated with its ETag (304 when unchanged)."""
    browse = container.browse_service()
    headers = {"Cache-Control": CACHE_CONTROL}
    if if_none_match is not None:
        etag = browse.etag(image_id, size)
        if etag in (t.strip() for t in if_none_match.split(",")):
            return Response(status_code=304, headers={**headers, "ETag": etag})
    thumb = browse.thumbnail(image_id, size)
    return Response(
        thumb.data, media_type=thumb.media_type, headers={**headers, "ETag": thumb.etag}
    )

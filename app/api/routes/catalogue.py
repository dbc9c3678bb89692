"""The catalogue over HTTP: upload, search (image or text), background rebuild and its job."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    UploadFile,
    status,
)

from app.api.deps import ContainerDep, ImageDep, upload_limit
from app.api.gallery_schemas import CropOut, Segmented, SegmentRequest, Uploaded
from app.api.paths import public_path
from app.api.schemas import JobAccepted, JobList, JobOut, SearchResponse
from app.api.search_focus import FocusForm, focus_form
from app.api.security import read_upload, require_api_key
from app.config import Settings
from app.domain.choices import SegmentMode
from app.domain.errors import InvalidInput
from app.domain.gallery import MAX_ID
from app.domain.models import QueryResult, SearchHit, first_failure

router = APIRouter(tags=["catalogue"])


def result_body(result: QueryResult, settings: Settings) -> dict[str, Any]:
    hits = [_hit(h, settings) for h in result.hits]
    return {"query": result.query, "hits": hits, "cut": result.cut}


def _hit(h: SearchHit, settings: Settings) -> dict[str, Any]:
    return {**h.as_dict(), "path": public_path(h.path, settings)}


@router.post("/segment/{image_id}", dependencies=[Depends(require_api_key)], status_code=201)
def segment(
    image_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    container: ContainerDep,
    body: Annotated[SegmentRequest | None, Body(description='e.g. {"mode": "quick"}')] = None,
    mode: Annotated[SegmentMode | None, Query(description="the same as the body's mode")] = None,
) -> Segmented:
    """Object crops of an uploaded (or any gallery) image, each embedded and indexed with its
    parent id and box; `mode=quick` splits the foreground into connected components,
    `accurate` uses the rembg mask, `detector` the open-vocabulary detector (DETECTOR_MODEL).
    The mode is a JSON body (`{"mode": "quick"}`) or a query parameter; default quick."""
    chosen = _one_mode(body.mode if body else None, mode)
    rows = container.segment_service().segment(image_id, chosen)
    settings = container.settings()
    crops = [CropOut(id=r.id, product_id=r.product_id, box=list(r.box or ()),
                     path=public_path(r.path, settings))
             for r in rows]  # fmt: skip
    return Segmented(parent_id=image_id, mode=chosen, crops=crops)


def _one_mode(in_body: SegmentMode | None, in_query: SegmentMode | None) -> SegmentMode:
    if in_body and in_query and in_body != in_query:
        raise InvalidInput(f"mode given twice: {in_body!r} in the body, {in_query!r} in the query")
    return in_body or in_query or SegmentMode.QUICK


@router.post("/upload", dependencies=[Depends(require_api_key)], status_code=201)
def upload(
    image: ImageDep,
    container: ContainerDep,
    product_id: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
) -> Uploaded:
    """Store the image for search (embedded and indexed); returns its id. Without `product_id`
    it is searchable but no class of classification by retrieval (product id "uploads"); with
    one, it becomes an example of that class (created when new)."""
    gallery = container.gallery_service()
    if product_id is None:
        change = gallery.upload([image])
    else:
        change = gallery.add_or_append(product_id, [image])
    if change.skipped:
        raise first_failure(change.skipped)
    added = change.stored[0]
    shown = public_path(added.path, container.settings())
    return Uploaded(id=added.id, product_id=added.product_id, path=shown)


def _top_k(
    k: Annotated[int | None, Form(ge=1, le=1000, description="number of results")] = None,
    k_query: Annotated[
        int | None, Query(alias="k", ge=1, le=1000, description="or as a query parameter")
    ] = None,
) -> int | None:
    """`k` as a form field or as `/search?k=5` (the form field wins when both are sent)."""
    return k if k is not None else k_query


@router.post("/search", response_model=SearchResponse, response_model_exclude_none=True)
def search(
    *,
    request: Request,
    container: ContainerDep,
    file: Annotated[UploadFile | None, File(description="query image")] = None,
    text: Annotated[str | None, Form(max_length=1000)] = None,
    k: Annotated[int | None, Depends(_top_k)] = None,
    more_like: Annotated[list[int] | None, Form(description="gallery ids to move toward")] = None,
    less_like: Annotated[
        list[int] | None, Form(description="gallery ids to move away from")
    ] = None,
    focus: Annotated[FocusForm, Depends(focus_form)],
) -> dict[str, Any]:
    """Top-K catalogue images like the uploaded image, or like the text (CLIP/SigLIP models).
    `products` / `exclude_products` / `under` search part of the catalogue (inside the index),
    `distinct_products` keeps one hit per product, `min_score` / `relative` cut weak hits (the
    answer's `cut` says how many)."""
    if (file is None) == (text is None):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "send either a file or a text")
    service = container.search_service()
    options = focus.options()
    if text is not None:
        return result_body(service.search_text(text, k, options), container.settings())
    upload = read_upload(file, upload_limit(request))
    outcome = service.search_images(
        [upload], k, options, more_like=more_like or (), less_like=less_like or ()
    )
    if outcome.skipped:
        raise first_failure(outcome.skipped)
    return result_body(outcome.results[0], container.settings())


@router.post(
    "/rebuild",
    dependencies=[Depends(require_api_key)],
    status_code=202,
    response_model=JobAccepted,
)
def rebuild(request: Request, container: ContainerDep, full: bool = False) -> dict[str, Any]:
    """Start a rebuild in the background; follow it at GET /jobs/{id}."""

    def work(progress) -> dict[str, Any]:
        service = container.rebuild_service(progress=progress)
        report = service.run(full=full)
        return {
            "scanned": report.scanned,
            "embedded": report.embedded,
            "unchanged": report.unchanged,
            "removed": report.removed,
            "skipped": [
                {"file": public_path(s.path, container.settings()), "reason": s.reason}
                for s in report.skipped
            ],
            "seconds": round(report.seconds, 3),
        }

    job = request.app.state.jobs.start("rebuild", work)
    return {"status": "accepted", "job_id": job.id, "url": f"/jobs/{job.id}"}


@router.get("/jobs", response_model=JobList)
def jobs(
    request: Request,
    kind: Annotated[str | None, Query(max_length=50, description="e.g. rebuild")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    """The most recent background jobs (e.g. the last rebuild and its report), newest first."""
    return {"jobs": [j.as_dict() for j in request.app.state.jobs.recent(kind, limit)]}


@router.get("/jobs/{job_id}", response_model=JobOut)
def job_status(request: Request, job_id: str) -> dict[str, Any]:
    return request.app.state.jobs.get(job_id).as_dict()

"""Health and Prometheus metrics."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from app import __version__
from app.api.errors import error_body
from app.api.schemas import HealthOut

router = APIRouter(tags=["system"])


@router.get(
    "/health",
    response_model=HealthOut,
    responses={503: {"description": "a dependency (database, index or model) is unavailable"}},
)
def health(request: Request) -> Any:
    """Each dependency's state (`checks`: database, index, model: ok / loading / unavailable);
    503 while any is unavailable, 200 again once it is back."""
    state = request.app.state
    report = state.container.health_service().check(getattr(state, "model_error", None))
    fields = {
        "version": __version__,
        "index_size": report.index_size,
        "index_model": report.index_model,
        "model_loaded": report.model_loaded,
        "checks": {name: asdict(check) for name, check in report.checks.items()},
    }
    if report.healthy:
        return {"status": "ok", **fields}
    down = [f"{name}: {c.detail}" for name, c in report.checks.items() if c.status == "unavailable"]
    body = error_body(503, "unhealthy: " + "; ".join(down), **fields)
    return JSONResponse(body, status_code=503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    store = request.app.state.container.vector_store()
    return request.app.state.metrics.render(
        lambda: request.app.state.metrics.index_size.set(len(store))
    )

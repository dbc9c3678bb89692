"""Health and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import __version__

router = APIRouter(tags=["system"])


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    container = request.app.state.container
    store = container.vector_store()
    return {
        "status": "ok",
        "version": __version__,
        "index_size": len(store),
        "index_model": store.model_stamp,
        "model_loaded": container.embedding_model().is_loaded,
    }


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    store = request.app.state.container.vector_store()
    return request.app.state.metrics.render(
        lambda: request.app.state.metrics.index_size.set(len(store))
    )

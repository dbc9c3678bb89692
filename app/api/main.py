"""The HTTP API: a third front door over the same container and services as the CLI and REPL.

    uvicorn app.api.main:app            or            python -m app.cli.main api --port 8000

(The CbR service this replaces was started with `uvicorn api.main:app`; here it is `app.api.main`.)

The web page at /, interactive docs at /docs and /redoc (served offline), the schema at
/openapi.json. Endpoints are plain `def` functions, so FastAPI runs model inference in its
thread pool and never blocks the event loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dependency_injector import providers
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from PIL import Image

from app import __version__
from app.api.errors import ERROR_RESPONSES, install_error_handlers
from app.api.jobs import JobRegistry
from app.api.memory import spool_uploads_over
from app.api.metrics import ApiMetrics, MetricsMiddleware
from app.api.routes import browse, catalogue, classify, duplicates, feedback, gallery, system
from app.api.web import mount_web_page
from app.container import Container, build_container

logger = logging.getLogger("app.api")


def create_app(container: Container | None = None, warm_up: bool = True) -> FastAPI:
    """The FastAPI app over `container` (default: settings from .env and the environment)."""
    metrics = ApiMetrics()
    container = container or build_container()

    container.embedding_observer.override(providers.Object(metrics.embed_batch.observe))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = container.settings()  # invalid settings fail here, at start-up
        spool_uploads_over(settings.upload_spool_bytes)
        one_blas_thread_per_request()
        if warm_up:
            threading.Thread(target=_warm_up, args=(app, container, metrics), daemon=True).start()
        yield

    # /docs and /redoc load Swagger UI / ReDoc from the installed fastapi-offline package,
    # never from a CDN, so they work on a machine without internet
    app = FastAPIOffline(
        title="img-recog", version=__version__, lifespan=lifespan, responses=ERROR_RESPONSES
    )
    app.state.container = container
    app.state.metrics = metrics
    app.state.jobs = JobRegistry()
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    install_error_handlers(app)
    for router in (
        system.router,
        catalogue.router,
        duplicates.router,
        gallery.router,
        classify.router,
        feedback.router,
        browse.router,
    ):
        app.include_router(router)
    mount_web_page(app)
    return app


def one_blas_thread_per_request() -> None:
    """numpy's BLAS runs each call in the calling thread. Requests already run in parallel
    threads and each one's algebra is small (a query against the gallery); a BLAS pool of its
    own would only spin waiting for work, taking the cores from the model and the decoders
    (on 2 busy cores, a 1 x 3068 x 1280 product: p50 15 ms with 2 BLAS threads, 0.5 ms with 1)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _warm_up(app: FastAPI, container: Container, metrics: ApiMetrics) -> None:
    """Load the model in the background and record how long it took."""
    start = time.perf_counter()
    try:
        embedder = container.embedder()
        embedder.model.embed_images([Image.new("RGB", (64, 64), "white")])
    except Exception as exc:  # the API still serves; the first request reports the problem
        logger.warning("model warm-up failed: %s", exc)
        app.state.model_error = str(exc)  # /health reports the model unavailable
        return
    app.state.model_error = None
    metrics.model_load.set(time.perf_counter() - start)
    try:  # judged queries for re-ranking, indexed before the first search needs them
        container.judged_index().load(embedder.stamp)
    except Exception as exc:  # the first search reports it (e.g. the database is down)
        logger.warning("feedback index warm-up failed: %s", exc)


app = create_app()

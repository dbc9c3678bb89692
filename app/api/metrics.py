"""Prometheus metrics: requests and latencies per route, model load time, index size, and the
latency of embedding batches. One registry per app, so tests and several apps never collide."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CONTENT_TYPE_LATEST", "ApiMetrics", "MetricsMiddleware"]


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "imgrecog_requests_total", "HTTP requests", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "imgrecog_request_seconds", "HTTP request latency", ["method", "route"],
            registry=self.registry,
        )  # fmt: skip
        self.model_load = Gauge(
            "imgrecog_model_load_seconds", "Time the embedding model took to load",
            registry=self.registry,
        )  # fmt: skip
        self.index_size = Gauge(
            "imgrecog_index_vectors", "Vectors in the index", registry=self.registry
        )
        self.embed_batch = Histogram(
            "imgrecog_embedding_batch_seconds", "Latency of one embedding batch",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )  # fmt: skip

    def render(self, refresh: Callable[[], None] | None = None) -> Response:
        if refresh is not None:
            refresh()
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every request under its route template (e.g. /class/{name})."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def send_wrapper(message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            method = scope.get("method", "GET")
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, route, str(status["code"])).inc()


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path or "unmatched"


async def metrics_endpoint(request: Request) -> Response:  # pragma: no cover - wired in main
    return request.app.state.metrics.render()

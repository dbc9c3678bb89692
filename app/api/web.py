"""The web page: static HTML/CSS/JS shipped inside the package (no build step, nothing fetched
at run time). It talks to the same JSON endpoints as any other client."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"


def mount_web_page(app: FastAPI) -> None:
    """`/` serves the page, `/static/...` its script and style sheet (kept out of the schema)."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

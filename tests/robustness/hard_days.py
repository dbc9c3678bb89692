"""Hard days for scripts/robustness_report.py: a full disk, the database going away, hostile
names. Each is one report row (case, outcome, records lost), run on the real app with real
photos and the thumbnail stand-in model; a row that needs root or a test PostgreSQL server
says so when it cannot run."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dependency_injector import providers
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.container import build_container
from tests.fakes import ThumbnailModel
from tests.robustness.crashloop import Outcome, photo_folder, settings_for
from tests.robustness.small_disk import fill

HOSTILE = ["\U0001f600" * 64, "evil\u202egnp", "zero\u200bwidth", "../../etc", "x" * 101]


def _client(settings) -> tuple[TestClient, object]:
    container = build_container(settings)
    container.embedding_model.override(providers.Object(ThumbnailModel()))
    container.rebuild_service().run()
    return TestClient(create_app(container, warm_up=False)), container


def _records(container) -> set[tuple[int, str]]:
    """What a user would not want to lose: every row with a vector."""
    ids = set(container.vector_store().ids().tolist())
    return {(r.id, r.path) for r in container.repository().list_images() if r.id in ids}


def _upload(photo: Path, name: str = "a.jpg") -> list:
    return [("files", (name, photo.read_bytes(), "image/jpeg"))]


@contextmanager
def _tmpfs(where: Path) -> Iterator[Path]:
    where.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def disk_full(work: Path) -> Outcome:
    if os.geteuid() != 0:
        return Outcome("disk full", "not run: mounting a small tmpfs needs root", 0, True)
    products = photo_folder(work / "products", classes=2, per_class=4)
    with _tmpfs(work / "disk") as disk:
        client, container = _client(settings_for(products, disk))
        before = _records(container)
        photo = next(products.rglob("*.jpg"))
        filler = fill(disk)
        full = client.post("/class/add/new", files=_upload(photo))
        read = client.post("/predict", files={"file": ("q.jpg", photo.read_bytes())})
        unchanged = _records(container) == before
        filler.unlink()
        retry = client.post("/class/add/new", files=_upload(photo))
        lost = len(before - _records(container))
        container.repository().close()
    ok = full.status_code == 507 and read.status_code == 200 and unchanged
    ok = ok and retry.status_code == 200
    what = (
        f"add: {full.status_code} naming the device, reads {read.status_code}, "
        f"{'nothing changed' if unchanged else 'CHANGED'}, retry {retry.status_code}"
    )
    return Outcome("disk full", what, lost, ok)


def database_down(work: Path) -> Outcome:
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url or not os.environ.get("TEST_POSTGRES_PGCTL"):
        return Outcome("database down", "not run: needs scripts/pg_test_server.sh", 0, True)
    from sqlalchemy import create_engine, text

    from tests.robustness.postgres_outage import postgres_down

    schema = "hard_days"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"'))
    products = photo_folder(work / "products", classes=2, per_class=4)
    settings = settings_for(products, work / "state").model_copy(
        update={"database_url": f"{url}?options=-csearch_path%3D{schema}"}
    )
    client, container = _client(settings)
    before = _records(container)
    photo = next(products.rglob("*.jpg"))
    with postgres_down():
        search = client.post("/search", files={"file": ("q.jpg", photo.read_bytes())})
        health = client.get("/health")
    after = client.post("/search", files={"file": ("q.jpg", photo.read_bytes())})
    lost = len(before - _records(container))
    container.repository().close()
    admin.dispose()
    ok = (search.status_code, health.status_code, after.status_code) == (503, 503, 200)
    what = f"search {search.status_code}, health {health.status_code}, back: {after.status_code}"
    return Outcome("database down", what, lost, ok)


def hostile_names(work: Path) -> Outcome:
    products = photo_folder(work / "products", classes=2, per_class=4)
    client, container = _client(settings_for(products, work / "state"))
    before = _records(container)
    photo = next(products.rglob("*.jpg"))
    codes = [
        client.post(f"/class/add/{name}", files=_upload(photo)).status_code for name in HOSTILE
    ]
    codes += [
        client.post(
            "/feedback", data={"verdict": "good", "query_id": 1, "product_id": n}
        ).status_code
        for n in HOSTILE
    ]
    lost = len(before - _records(container))
    unchanged = _records(container) == before
    container.repository().close()
    refused = sum(c in (404, 422) for c in codes)
    what = f"{refused}/{len(codes)} refused (API class add, feedback), gallery unchanged"
    return Outcome("hostile names", what, lost, refused == len(codes) and unchanged)

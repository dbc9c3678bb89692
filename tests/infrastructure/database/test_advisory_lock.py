"""The PostgreSQL advisory writer lock: processes that share only the database (as on several
machines) write one at a time; the lock dies with its holder; with a PostgreSQL DATABASE_URL
every gallery change takes it. Needs TEST_POSTGRES_URL (`make test` starts a throw-away server)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from dependency_injector import providers

from app.container import build_container
from app.domain.errors import Conflict
from app.domain.images import ImageInput
from app.infrastructure.database.advisory_lock import AdvisoryLock, is_postgresql, lock_key
from app.wiring.storage import store_location
from conftest import write_product_photo
from tests.fakes import ThumbnailModel

_HOLD = """
import sys, time
from app.infrastructure.database.advisory_lock import AdvisoryLock
with AdvisoryLock(sys.argv[1], sys.argv[2]).held():
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(postgres_url):
    """Another process holding the lock of location "qdrant|http://db:6333|shop"."""
    where = "qdrant|http://db:6333|shop"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD, postgres_url, where], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    yield proc, where
    proc.kill()
    proc.wait()


def test_a_writer_waits_for_the_holder_then_fails_naming_it(postgres_url, holder):
    _, where = holder
    started = time.monotonic()
    busy = r"locked for too long: PostgreSQL server process \d+ for"
    with pytest.raises(Conflict, match=busy), AdvisoryLock(postgres_url, where, wait=0.3).held():
        pass
    assert time.monotonic() - started >= 0.3
    with AdvisoryLock(postgres_url, "qdrant|http://other:6333|shop", wait=0).held():
        pass  # another index location is not blocked


def test_the_lock_dies_with_its_holder(postgres_url, holder):
    proc, where = holder
    proc.kill()
    proc.wait()
    with AdvisoryLock(postgres_url, where, wait=10).held():  # the server ended its session
        pass
    with AdvisoryLock(postgres_url, where, wait=0).held():  # and released ours on exit
        pass


def test_keys_are_stable_and_only_postgresql_takes_the_lock():
    assert lock_key("faiss|/srv/index/faiss") == lock_key("faiss|/srv/index/faiss")
    assert lock_key("faiss|/srv/index/faiss") != lock_key("faiss|/srv/other/faiss")
    assert is_postgresql("postgresql+psycopg://u@db/shop") and is_postgresql("postgresql://db/x")
    assert not is_postgresql("sqlite:///data/app.db") and not is_postgresql("not a url")


def test_every_gallery_change_on_postgresql_takes_it(settings, postgres_url, tmp_path):
    pg = settings.model_copy(update={"database_url": postgres_url})
    c = build_container(pg)
    c.embedding_model.override(providers.Object(ThumbnailModel()))
    photos = ImageInput.files(
        [write_product_photo(tmp_path / f"p{i}.jpg", (200, 40 * i, 90), i) for i in range(2)]
    )
    done: list[object] = []
    other_machine = AdvisoryLock(postgres_url, "|".join(store_location(pg)))
    with other_machine.held():
        writer = threading.Thread(
            target=lambda: done.append(c.gallery_service().add_class("pg-bag", photos))
        )
        writer.start()
        writer.join(timeout=1.5)
        assert writer.is_alive() and not done  # waits for the other machine's write
    writer.join(timeout=60)
    assert done and len(c.vector_store()) == 2
    assert {r.product_id for r in c.repository().list_images()} == {"pg-bag"}

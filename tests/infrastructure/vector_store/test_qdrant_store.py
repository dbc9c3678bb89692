"""What only the Qdrant store does: payloads and filters, a collection per model stamp switched at
save, collection settings, and clear errors when the server or the local folder cannot be used.

Runs on qdrant-client's local mode (no server can be installed here): the store makes exactly the
same client calls against a server; only `open_client` differs.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys

import numpy as np
import pytest

from app.domain.errors import BackendUnavailable, IndexNotReady
from app.domain.models import VectorPayload
from app.infrastructure.vector_store.qdrant_connection import open_client
from app.infrastructure.vector_store.qdrant_store import (
    QdrantOptions,
    QdrantVectorStore,
    collection_config,
)
from tests.infrastructure.vector_store.test_contract import vectors

PRODUCTS = ["red-shoe", "red-shoe", "green-hat", "blue-dress", "green-hat", "blue-dress"]
LABELS = ["shoes", "shoes", "hat", "dress", "hat", "dress"]


@pytest.fixture
def options(tmp_path) -> QdrantOptions:
    return QdrantOptions(path=tmp_path / "qdrant", batch_size=4)


@pytest.fixture
def store(options) -> QdrantVectorStore:
    s = QdrantVectorStore(options)
    s.reset("model-a")
    payloads = [VectorPayload(p, c, (0, 0, 10, 10)) for p, c in zip(PRODUCTS, LABELS, strict=True)]
    s.add(np.arange(1, 7), vectors(6), payloads)
    return s


def collections(store: QdrantVectorStore) -> set[str]:
    return {c.name for c in store._client().get_collections().collections}


def test_payload_holds_image_product_class_and_box(store):
    (point,) = store._client().retrieve(store.collection, [3], with_payload=True)
    assert point.payload == {
        "image_id": 3,
        "product_id": "green-hat",
        "label": "hat",
        "box": [0, 0, 10, 10],
    }


def test_search_filtered_by_product_or_class(store):
    query = vectors(6)[0:1]  # the vector of id 1 (a red shoe)
    by_product = store.search_where(query, k=10, product_ids=["green-hat", "blue-dress"])[0]
    assert {i for i, _ in by_product} == {3, 4, 5, 6}
    by_class = store.search_where(query, k=10, labels=["shoes"])[0]
    assert by_class[0][0] == 1 and {i for i, _ in by_class} == {1, 2}
    both = store.search_where(query, k=10, product_ids=["green-hat"], labels=["dress"])
    assert both == [[]]
    unfiltered = dict(store.search(query, k=10)[0])
    assert all(unfiltered[i] == pytest.approx(s) for i, s in by_product)
    with pytest.raises(ValueError, match="filter"):
        store.search_where(query, k=3)


def test_remove_by_class(store):
    assert store.remove_where(labels=["hat"]) == 2
    assert store.ids().tolist() == [1, 2, 4, 6]
    assert store.remove_where(labels=["hat"]) == 0
    assert store.remove_where(product_ids=["red-shoe"]) == 2
    assert len(store) == 2


def test_add_without_payload_replaces_the_old_payload(store):
    store.add(np.array([3]), vectors(1, seed=9))
    (point,) = store._client().retrieve(store.collection, [3], with_payload=True)
    assert point.payload == {"image_id": 3}
    assert store.search_where(vectors(1, seed=9), k=10, labels=["hat"])[0][0][0] == 5


def test_a_collection_per_model_stamp_switched_at_save(options, store):
    digest = hashlib.sha256(b"model-a").hexdigest()[:12]
    first = store.collection
    assert first.startswith(f"img_recog_{digest}_")
    store.save()
    store.reset("model-b")
    store.add(np.arange(1, 4), vectors(3, seed=2, dim=16))
    assert store.collection != first and len(store) == 3

    before_save = QdrantVectorStore(options)  # another replica: still serves model a
    assert before_save.load() is True
    assert (before_save.model_stamp, len(before_save)) == ("model-a", 6)

    store.save()
    after = QdrantVectorStore(options)
    assert after.load() is True
    assert (after.model_stamp, len(after), after.info().dim) == ("model-b", 3, 16)
    assert {first, store.collection} <= collections(store)  # the replaced one is kept

    second = store.collection
    store.reset("model-c")
    store.add(np.arange(2), vectors(2))
    store.save()
    ours = {c for c in collections(store) if c != "img_recog_state"}
    assert ours == {second, store.collection}  # older ones are dropped
    with pytest.raises(IndexNotReady, match="restart"):  # its collection is gone
        before_save.search(vectors(1), k=1)


def test_prefixes_keep_deployments_apart(tmp_path):
    a = QdrantVectorStore(QdrantOptions(path=tmp_path / "q", collection_prefix="shop_a"))
    b = QdrantVectorStore(QdrantOptions(path=tmp_path / "q", collection_prefix="shop_b"))
    for s, n in ((a, 2), (b, 3)):
        s.reset("m")
        s.add(np.arange(n), vectors(n))
        s.save()
    assert (len(a), len(b)) == (2, 3)
    with pytest.raises(ValueError, match="prefix"):
        QdrantVectorStore(QdrantOptions(collection_prefix="no spaces"))


def test_missing_current_collection_is_reported(options, store):
    store.save()
    store._client().delete_collection(store.collection)
    fresh = QdrantVectorStore(options)
    with pytest.raises(IndexNotReady, match="missing"):
        fresh.load()
    assert fresh.model_stamp is None


def test_a_missing_newer_collection_keeps_the_one_held(options, store):
    """Another process switched the state point to a collection that is gone: the refresh says
    so in one line (a writer's change fails, nothing is switched), and the collection held, still
    there, keeps serving."""
    store.save()
    other = QdrantVectorStore(options)
    other.reset("model-b")
    other.add(np.array([9]), vectors(1))
    other.save()
    other._client().delete_collection(other.collection)
    with pytest.raises(IndexNotReady, match="missing"):
        store.refresh(must_load=True)
    assert store.model_stamp == "model-a" and store.ids().tolist() == [1, 2, 3, 4, 5, 6]


def test_collection_settings_from_options():
    options = QdrantOptions(on_disk=True, hnsw_m=24, ef_construction=200)
    config = collection_config(options, 512, "l2")
    assert config["vectors_config"].size == 512
    assert config["vectors_config"].distance.value == "Euclid"
    assert config["vectors_config"].on_disk is True
    assert (config["hnsw_config"].m, config["hnsw_config"].ef_construct) == (24, 200)
    assert config["on_disk_payload"] is True
    assert collection_config(QdrantOptions(), 8, "cosine")["vectors_config"].distance.value == (
        "Cosine"
    )


def test_in_memory_local_mode():
    s = QdrantVectorStore(QdrantOptions(path=None))
    s.reset("m")
    s.add(np.arange(3), vectors(3))
    assert s.search(vectors(3)[1:2], k=1)[0][0][0] == 1
    assert s.info().bytes_on_disk == 0


def test_server_url_builds_a_remote_client():
    client = open_client(QdrantOptions(url="https://qdrant.example:6333", api_key="secret"))
    assert type(client._client).__name__ == "QdrantRemote"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_is_backend_unavailable(caplog):
    url = f"http://127.0.0.1:{_closed_port()}"
    store = QdrantVectorStore(QdrantOptions(url=url, timeout=2))
    with pytest.raises(BackendUnavailable, match="Qdrant unavailable") as raised:
        store.load()
    assert url not in str(raised.value)  # API answers show no address; the log does
    assert url in caplog.text


def test_local_folder_used_by_another_process(tmp_path):
    folder = tmp_path / "locked"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_FOLDER, str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        store = QdrantVectorStore(QdrantOptions(path=folder))
        with pytest.raises(BackendUnavailable, match=r"another process.*QDRANT_URL"):
            store.load()
    finally:
        holder.communicate("")


HOLD_FOLDER = """
import sys
from qdrant_client import QdrantClient
client = QdrantClient(path=sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""

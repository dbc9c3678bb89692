"""Long-running readers in real processes: an API server follows another process's rebuild
without a restart; a REPL interrupted (SIGINT) during `rebuild --full` serves the last complete
index; concurrent first requests to a fresh server lose nothing; a deleted id is never reused.

More rounds: IMGRECOG_WRITER_ROUNDS (default 1).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import write_product_photo
from tests.robustness.many_writers import free_port, gallery, start_api
from tests.robustness.test_many_writers import ROUNDS
from tests.robustness.writers import REPO, writer_env

COLOURS = [(200, 30, 30), (30, 180, 40), (30, 50, 210), (220, 200, 30)]


def products(root: Path, per_class: int, classes: int = 3) -> Path:
    for c in range(classes):
        for i in range(per_class):
            write_product_photo(root / f"class{c}" / f"v{i}.jpg", COLOURS[c], seed=100 * c + i)
    return root


def test_api_server_follows_another_process_rebuild(tmp_path):
    catalogue = products(tmp_path / "products", per_class=2)
    env = writer_env(tmp_path / "state", catalogue)
    gallery(env).rebuild_service().run()
    server, base = start_api(env)
    try:
        assert httpx.get(f"{base}/model/info").json()["gallery_size"] == 6
        new = write_product_photo(catalogue / "class3" / "v0.jpg", COLOURS[3], seed=7)
        gallery(env).rebuild_service().run()  # this test's process is "another process"
        info = httpx.get(f"{base}/model/info").json()
        assert info["gallery_size"] == 7 and "class3" in info["classes"]
        upload = {"file": (new.name, new.read_bytes(), "image/jpeg")}
        hits = httpx.post(f"{base}/search", files=upload, data={"k": "1"}).json()["hits"]
        assert hits[0]["product_id"] == "class3"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)


def _repl_answer(repl: subprocess.Popen, line: str) -> dict:
    repl.stdin.write(line + "\n")
    repl.stdin.flush()
    while True:
        out = repl.stdout.readline()
        assert out, "the REPL ended"
        if out.startswith("{"):
            return json.loads(out)


def test_repl_interrupted_during_full_rebuild_serves_the_last_complete_index(tmp_path):
    catalogue = products(tmp_path / "products", per_class=8)
    env = writer_env(tmp_path / "state", catalogue, FAKE_EMBED_DELAY="0.4")
    gallery(env).rebuild_service().run()
    cmd = [sys.executable, "-m", "tests.robustness.writers", "repl"]
    repl = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert repl.stdout.readline().strip() == "ready"
        before = _repl_answer(repl, "stats --json")["index"]["size"]
        assert before == 24
        repl.stdin.write("rebuild --full\n")
        repl.stdin.flush()
        time.sleep(1.5)  # a few of the 6 batches embedded
        repl.send_signal(signal.SIGINT)
        assert _repl_answer(repl, "stats --json")["index"]["size"] == 24
        query = catalogue / "class2" / "v3.jpg"
        answer = _repl_answer(repl, f"query --image {query} --json --k 3")
        assert [h["product_id"] for h in answer["hits"]] == ["class2"] * 3
        repl.stdin.write("exit\n")
        repl.stdin.flush()
        assert repl.wait(timeout=60) == 0
        assert "interrupted" in repl.stderr.read()
    finally:
        repl.kill()
        repl.wait()
    assert len(gallery(env).vector_store()) == 24  # on disk: the complete index


def _wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the API exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the API did not start")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_first_requests_and_ids_never_reused(database, tmp_path, request):
    catalogue = products(tmp_path / "products", per_class=1)
    extra = {}
    if database == "postgresql":
        extra["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    env = writer_env(tmp_path / "state", catalogue, **extra)
    photos = sorted(products(tmp_path / "photos", per_class=2, classes=4).rglob("*.jpg"))
    for seed in range(ROUNDS):
        port = free_port()
        cmd = [sys.executable, "-m", "tests.robustness.writers", "api", str(port)]
        server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_listening(port, server)
            answers = _first_requests(base, f"r{seed}c", photos)
            assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
            health = httpx.get(f"{base}/health").json()
            assert health["model_loaded"] is True
            info = httpx.get(f"{base}/model/info").json()
            assert all(info["classes"][f"r{seed}c{i}"] == 2 for i in range(4))
            _delete_then_add_never_reuses(base, answers[0].json()["example_ids"], photos[0])
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=60)
        c = gallery(env)
        rows = c.repository().list_images()
        assert set(c.vector_store().ids().tolist()) == {r.id for r in rows}


def _first_requests(base: str, prefix: str, photos: list[Path]) -> list[httpx.Response]:
    """Four `class/add` requests sent at the same moment, two photos each."""
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def send(i: int) -> None:
        files = [("files", (p.name, p.read_bytes(), "image/jpeg")) for p in photos[2 * i :][:2]]
        start.wait()
        answers.append(httpx.post(f"{base}/class/add/{prefix}{i}", files=files, timeout=120))

    senders = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    return answers


def _delete_then_add_never_reuses(base: str, ids: list[int], photo: Path) -> None:
    last = max(ids)
    gone = httpx.request("DELETE", f"{base}/examples", json=[last])
    assert gone.status_code == 200, gone.text
    upload = [("files", (photo.name, photo.read_bytes(), "image/jpeg"))]
    added = httpx.post(f"{base}/class/add/fresh{last}", files=upload, timeout=120).json()
    assert min(added["example_ids"]) > last
    again = httpx.request("DELETE", f"{base}/examples", json=[last])  # a retried removal
    assert again.status_code == 404, again.text

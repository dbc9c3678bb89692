"""Predictions while classes change: no server errors, nothing acknowledged is lost, and no
prediction sees a class halfway through being replaced (its old examples removed and the new
ones not yet added: the class would vanish from the probabilities, which list the top 10)."""

from __future__ import annotations

import os
import threading
import time

from tests.api.conftest import files, jpeg

PURPLE, YELLOW, GREY = (150, 40, 160), (230, 210, 40), (120, 120, 120)
# a short run in every test session; IMGRECOG_STRESS_SECONDS=30 for a longer one
SECONDS = float(os.environ.get("IMGRECOG_STRESS_SECONDS", "4"))


def test_predict_and_search_during_class_updates(client):
    assert client.post("/class/add/churn", files=files(jpeg(PURPLE, 1), jpeg(PURPLE, 2))).is_success
    assert client.post("/class/add/grey", files=files(jpeg(GREY, 3))).is_success
    stop = time.monotonic() + SECONDS
    errors: list[str] = []
    seen_without_churn: list[dict] = []
    added: list[str] = []
    removed: list[str] = []

    def predictor() -> None:
        while time.monotonic() < stop:
            r = client.post("/predict", files={"file": ("q.jpg", jpeg(PURPLE, 9), "image/jpeg")})
            if r.status_code != 200:
                errors.append(f"predict {r.status_code} {r.text[:200]}")
            elif "churn" not in r.json()["class_probabilities"]:
                seen_without_churn.append(r.json())

    def searcher() -> None:
        while time.monotonic() < stop:
            r = client.post("/search", files={"file": ("q.jpg", jpeg(GREY, 8), "image/jpeg")})
            if r.status_code != 200:
                errors.append(f"search {r.status_code} {r.text[:200]}")

    def replacer() -> None:
        colours = [YELLOW, PURPLE]
        i = 0
        while time.monotonic() < stop:
            blob = files(jpeg(colours[i % 2], 100 + i), jpeg(colours[i % 2], 200 + i))
            r = client.post("/class/update/churn?append=false", files=blob)
            if r.status_code != 200:
                errors.append(f"update {r.status_code} {r.text[:200]}")
            i += 1

    def adder_remover() -> None:
        i = 0
        while time.monotonic() < stop:
            name = f"extra-{i}"
            r = client.post(f"/class/add/{name}", files=files(jpeg((10 * (i % 20), 90, 60), i)))
            if r.status_code != 200:
                errors.append(f"add {r.status_code} {r.text[:200]}")
                continue
            added.append(name)
            keep = i % 3 == 0 and len(added) - len(removed) <= 3  # under 10 classes in all
            if not keep and client.delete(f"/class/{name}").status_code == 200:
                removed.append(name)
            i += 1

    threads = [
        threading.Thread(target=f)
        for f in (predictor, predictor, searcher, searcher, replacer, adder_remover)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 60)
    assert errors == []
    assert seen_without_churn == []
    classes = client.get("/model/info").json()["classes"]
    assert classes["churn"] == 2 and classes["grey"] == 1
    assert {n for n in added if n not in removed} <= set(classes)
    assert not set(removed) & set(classes)
    assert len(added) >= 2
    print(
        f"{SECONDS:.0f} s, 6 threads: {len(added)} classes added, {len(removed)} removed, 0 errors"
    )

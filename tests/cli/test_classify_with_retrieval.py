"""`classify` brings retrieval in: the catalogue built by `rebuild` is the default gallery."""

from __future__ import annotations

import json

from conftest import write_product_photo


def test_rebuild_then_classify_json_has_the_retrieval_class(cli, tmp_path):
    assert cli("rebuild").code == 0
    query = write_product_photo(tmp_path / "q.jpg", (30, 50, 210), seed=21)
    ran = cli("classify", "--image", str(query), "--json")
    assert ran.code == 0, ran.err
    answer = json.loads(ran.out.splitlines()[0])
    retrieval = answer["retrieval"]
    assert retrieval["class"] == "blue-dress" and retrieval["unclassifiable"] is False
    assert 0 < retrieval["confidence"] <= 1 and retrieval["reason"] is None
    assert any("zero-shot needs a text-image model" in n for n in answer["notes"])

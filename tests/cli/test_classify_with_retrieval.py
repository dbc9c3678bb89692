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


def test_trained_head_is_used_with_the_category_from_retrieval(cli, settings, tmp_path):
    """Image-only model, labels file with several categories: the gallery's class names the
    category, so the head trained for it answers (before: silently never used)."""
    from conftest import write_training_set

    shoes = [write_product_photo(tmp_path / "s" / f"{i}.jpg", (200, 30, 30), i) for i in range(3)]
    assert cli("class", "add", "shoe", *map(str, shoes)).code == 0
    write_training_set(settings.training_dir, "shoe", "type",
                       {"boot": (200, 30, 30), "sandal": (30, 50, 210)})  # fmt: skip
    assert cli("train", "--category", "shoe", "--attribute", "type", "--epochs", "30",
               "--lr", "0.01").code == 0  # fmt: skip
    query = write_product_photo(tmp_path / "q.jpg", (205, 35, 25), seed=40)
    answer = json.loads(cli("classify", "--image", str(query), "--use-trained", "--json").out)
    assert answer["category"]["value"] == "shoe" and answer["category"]["source"] == "retrieval"
    assert answer["attributes"]["type"]["source"] == "trained"
    assert answer["attributes"]["type"]["value"] == "boot"


def test_a_head_left_unused_says_why(cli, settings, tmp_path):
    from conftest import write_training_set

    assert cli("rebuild").code == 0  # gallery classes red-shoe, green-hat, blue-dress
    write_training_set(settings.training_dir, "shoe", "type",
                       {"boot": (200, 30, 30), "sandal": (30, 50, 210)})  # fmt: skip
    assert cli("train", "--category", "shoe", "--attribute", "type").code == 0
    query = write_product_photo(tmp_path / "q.jpg", (30, 180, 40), seed=41)
    answer = json.loads(cli("classify", "--image", str(query), "--use-trained", "--json").out)
    assert any("shoe/type" in note and "not used" in note for note in answer["notes"])

"""`split`, `evaluate` and `finetune` as a user types them (fast fake model)."""

from __future__ import annotations

import json

from PIL import Image

from conftest import COLOURS, write_product_photo


def _trees(root):
    for i, (product, colour) in enumerate(COLOURS.items()):
        for view in range(2):
            write_product_photo(root / "g" / product / f"{view}.jpg", colour, seed=10 * i + view)
        write_product_photo(root / "q" / product / "q.jpg", colour, seed=90 + i)
    return root / "g", root / "q"


def _evaluate_trees(cli, tmp_path, *options: str):
    """`evaluate --gallery G --queries Q OPTIONS` over two small trees of product photos."""
    gallery, queries = _trees(tmp_path)
    return cli("evaluate", "--gallery", str(gallery), "--queries", str(queries), *options)


def test_evaluate_two_trees_json(cli, tmp_path):
    out = tmp_path / "report"
    ran = _evaluate_trees(cli, tmp_path, "--json", "--out", str(out))
    assert ran.code == 0, ran.err
    data = json.loads(ran.out)
    assert {"recall@1", "recall@5", "precision@5", "map", "n_queries"} <= set(data)
    assert data["recall@1"] == 1.0 and data["n_queries"] == 3
    assert (out / "confusion_top1.png").is_file() and (out / "report.json").is_file()


def test_evaluate_compares_the_classification_rules(cli, tmp_path):
    ran = _evaluate_trees(cli, tmp_path, "--k", "1", "3", "--out", str(tmp_path / "r"))
    assert ran.code == 0, ran.err
    assert "R@1 1.000, R@3 1.000" in ran.out
    for rule in ("max", "prototype", "knn"):
        assert rule in ran.out
    assert (tmp_path / "r" / "confusion_max.png").is_file()


def test_evaluate_needs_both_trees(cli, tmp_path):
    ran = cli("evaluate", "--gallery", str(tmp_path))
    assert ran.code == 2 and "--gallery and --queries go together" in ran.err


def test_split_then_evaluate_split(cli, tmp_path):
    data = tmp_path / "data"
    for i, (product, colour) in enumerate(COLOURS.items()):
        for obj in range(4):
            path = data / product / f"{product}{obj}_1.jpg"
            write_product_photo(path, colour, seed=10 * i + obj)
    ran = cli("split", str(data), "--min-size", "16", "--val", "0.25", "--test", "0.25")
    assert ran.code == 0, ran.err
    assert "wrote a new split" in ran.out and "groups" in ran.out
    again = cli("split", str(data), "--json")
    assert json.loads(again.out)["reused"] is True
    ran = cli("evaluate", "--split", "test", "--json", "--out", str(tmp_path / "r"))
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["n_queries"] == 3


def test_split_reports_excluded_groups_on_stderr(cli, tmp_path):
    data = tmp_path / "data"
    for obj in range(3):
        write_product_photo(data / "hat" / f"h{obj}_1.jpg", (1, 2, 3), seed=obj)
    ran = cli("split", str(data))  # the 64x48 photos are below 224x224
    assert ran.code == 1 and "all 3 groups have an image below 224x224" in ran.err
    ran = cli("split", str(data), "--min-size", "64x40")
    assert ran.code == 0 and "excluded" not in ran.err
    Image.new("RGB", (10, 10)).save(data / "hat" / "h1_2.jpg")
    (data / "hat" / "h0_3.jpg").write_bytes(b"")
    ran = cli("split", str(data), "--min-size", "60x48", "--force")
    assert ran.code == 0, ran.err
    assert "excluded group h1 (hat, 2 images): hat/h1_2.jpg is 10x10" in ran.err
    assert "skipped" in ran.err and "h0_3.jpg" in ran.err
    assert "excluded: 1 groups (2 images)" in ran.out


def test_bad_arguments_are_usage_errors(cli, tmp_path):
    assert cli("split", str(tmp_path), "--min-size", "big").code == 2
    assert cli("split", str(tmp_path), "--val", "0.6", "--test", "0.6").code == 2
    ran = cli("finetune", "--dim", "0")
    assert ran.code == 2 and "embedding_dim" in ran.err


def test_finetune_without_a_split_says_what_to_do(cli):
    ran = cli("finetune", "--frozen-epochs", "1", "--epochs", "0")
    assert ran.code == 1 and "run `split DATA_DIR` first" in ran.err

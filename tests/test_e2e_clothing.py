"""End to end on real photos with the packaged EfficientNet-Lite0 (no fakes anywhere)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.container import build_container
from conftest import clothing_subset, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A products folder of 8 train photos per class (symlinked, not copied) + 30 test queries."""
    from app.config import load_settings

    root = tmp_path_factory.mktemp("e2e")
    products = root / "products"
    for photo in clothing_subset(per_class=8, split="train"):
        target = products / photo.parent.name / photo.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(photo)
    settings = load_settings(
        _env_file=None,
        products_dir=products,
        index_dir=root / "index",
        database_url=f"sqlite:///{root / 'app.db'}",
        embedding_model="efficientnet-lite0",
        top_k=5,
    )
    return settings, products, clothing_subset(per_class=3, split="test")


def test_rebuild_query_incremental_delete_and_corrupt(world):
    settings, products, queries = world
    container = build_container(settings)
    code, out, err = run_cli(container, "rebuild")
    assert code == 0, err
    assert "80 embedded" in out

    code, out, _ = run_cli(container, "query", "--json", "--image", *map(str, queries))
    results = [json.loads(line) for line in out.splitlines()]
    assert len(results) == 30
    hits = sum(
        Path(r["query"]).parent.name in {h["product_id"] for h in r["hits"]} for r in results
    )
    assert hits / len(results) >= 0.6, f"top-5 class hit rate {hits / len(results):.2f}"

    code, out, _ = run_cli(container, "rebuild")
    assert "0 embedded" in out and "80 unchanged" in out

    victim = Path(results[0]["hits"][0]["path"])
    victim.unlink()
    (products / "shoes" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xdb" + b"\0" * 100)
    code, out, err = run_cli(container, "rebuild")
    assert code == 3 and "corrupt.jpg" in err and "1 removed" in out
    code, out, _ = run_cli(
        container, "query", "--json", "--k", "80", "--image", results[0]["query"]
    )
    assert str(victim) not in {h["path"] for h in json.loads(out)["hits"]}

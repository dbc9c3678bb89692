"""`dedup` over real photos with the packaged EfficientNet-Lite0: planted duplicates (re-compressed
and resized into another product, an exact copy, a 5%-cropped copy) are found and flagged, on
FAISS flat and HNSW and on Qdrant local mode, through the CLI, and `--show` draws the groups."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from app.container import build_container
from conftest import clothing_subset, run_cli

pytestmark = pytest.mark.slow


def _recompressed(src: Path, dst: Path) -> None:
    with Image.open(src) as img:
        smaller = img.convert("RGB").resize((int(img.width * 0.9), int(img.height * 0.9)))
    smaller.save(dst, quality=70)


def _cropped(src: Path, dst: Path) -> None:
    with Image.open(src) as img:
        dx, dy = img.width // 40, img.height // 40  # 2.5% off each side: 5% of each dimension
        img.convert("RGB").crop((dx, dy, img.width - dx, img.height - dy)).save(dst, quality=95)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Two photos per clothing class (copied, as they get planted copies beside them) and three
    planted duplicates; returns the products folder and the planted pairs."""
    root = tmp_path_factory.mktemp("dedup")
    products = root / "products"
    photos = clothing_subset(per_class=2, split="train")
    for photo in photos:
        (products / photo.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(photo, products / photo.parent.name / photo.name)
    shirt, pants, dress = (
        next(p for p in photos if p.parent.name == c) for c in ("shirt", "pants", "dress")
    )
    planted = {
        "recompressed": (products / "shirt" / shirt.name, products / "skirt" / "planted-shirt.jpg"),
        "exact": (products / "pants" / pants.name, products / "hat" / "planted-pants.jpg"),
        "cropped": (products / "dress" / dress.name, products / "dress" / "planted-crop.jpg"),
    }
    _recompressed(*planted["recompressed"])
    shutil.copyfile(*planted["exact"])
    _cropped(*planted["cropped"])
    return root, products, planted


STORES = {
    "faiss-flat": {"vector_store": "faiss", "faiss_index": "flat"},
    "faiss-hnsw": {"vector_store": "faiss", "faiss_index": "hnsw"},
    "qdrant-local": {"vector_store": "qdrant"},
}


@pytest.mark.parametrize("store", STORES)
def test_planted_duplicates_are_found_and_flagged(world, store):
    from app.config import load_settings

    root, products, planted = world
    settings = load_settings(
        _env_file=None,
        products_dir=products,
        index_dir=root / store / "index",
        qdrant_path=root / store / "qdrant",
        database_url=f"sqlite:///{root / store / 'app.db'}",
        embedding_model="efficientnet-lite0",
        **STORES[store],
    )
    container = build_container(settings)
    assert run_cli(container, "rebuild")[0] == 0
    code, out, err = run_cli(container, "dedup", "--json", "--show", str(root / store / "dups.png"))
    assert code == 0, err
    groups = [json.loads(line) for line in out.splitlines()]
    members = [{Path(i["path"]).name for i in g["images"]} for g in groups]
    for what, (original, copy) in planted.items():
        found = [g for g, names in zip(groups, members) if {original.name, copy.name} <= names]
        assert len(found) == 1, f"{what} copy not grouped with its original: {members}"
        assert found[0]["conflict"] == (original.parent.name != copy.parent.name), what
    exact = next(g for g, m in zip(groups, members) if "planted-pants.jpg" in m)
    assert exact["similarity"] == 1.0
    assert len(groups) == 3, f"unplanted groups at the default threshold: {members}"
    assert [g["conflict"] for g in groups] == [True, True, False]  # conflicts first
    with Image.open(root / store / "dups.png") as sheet:
        assert sheet.height > 3 * 160  # one row per group

    code, out, _ = run_cli(container, "dedup", "--json", "--across-products")
    assert {len(json.loads(line)["images"]) for line in out.splitlines()} == {2}
    assert all(json.loads(line)["conflict"] for line in out.splitlines())
    code, out, _ = run_cli(container, "dedup", "--json", "--within-product")
    assert [json.loads(line)["conflict"] for line in out.splitlines()] == [False]

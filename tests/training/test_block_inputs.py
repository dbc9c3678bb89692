"""Phase 2 val scoring from the stored inputs of the first trained block gives the scores of the
whole backbone, after the trained blocks change too (tiny images, EfficientNet-Lite0 and a tiny
CLIP); backbones where it cannot apply are scored in full."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from app.infrastructure.embedding.finetuned import build_embedding_net
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.services.progress import no_progress
from app.services.scanning import content_hash
from app.training import block_inputs
from app.training.augment import Normalise
from app.training.block_inputs import capture_block_inputs
from app.training.data import Reader, index_images
from app.training.epochs import net_embeddings, val_scores
from app.training.runtime import choose_precision
from app.training.unfreeze import blocks_of, set_trainable
from conftest import write_product_photo

COLOURS = [(200, 30, 30), (30, 180, 40), (30, 50, 210)]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, list[tuple[str, int]]]:
    root = tmp_path_factory.mktemp("photos")
    sets: dict[str, list[tuple[str, int]]] = {"train": [], "val": []}
    for label, colour in enumerate(COLOURS):
        for i in range(7):
            path = write_product_photo(root / f"c{label}" / f"{i}.jpg", colour, 10 * label + i)
            sets["train" if i < 5 else "val"].append((str(path), label))
    return sets


@pytest.fixture(scope="module")
def tiny_clip_dir(tmp_path_factory) -> Path:
    from tests.infrastructure.embedding.tiny_models import build_tiny_clip

    return build_tiny_clip(tmp_path_factory.mktemp("models") / "tiny-clip")


def _setup(backbone: str, side: int, photos, last_blocks: int):
    torch.manual_seed(0)
    net = build_embedding_net(backbone, 8, image_size=side)
    set_trainable(net.backbone, last_blocks)
    pixels = net.meta["pixels"]
    norm = Normalise(int(pixels["crop"]), tuple(pixels["mean"]), tuple(pixels["std"]))
    reader = Reader(PadResizePreprocessor(PreprocessOptions(size=96)).prepare, pixels["resize"])
    sets = {n: index_images(items, content_hash, no_progress, n) for n, items in photos.items()}
    return net, sets, (reader, norm, choose_precision(torch.device("cpu"), None, None))


def _train_a_little(net) -> None:
    """What an epoch does to the network: the trained blocks and the head move."""
    with torch.no_grad():
        for param in [*net.backbone.parameters(), *net.head.parameters()]:
            if param.requires_grad:
                param.add_(0.05 * torch.randn_like(param))


def _full(net, sets, tools):
    gallery, queries = (net_embeddings(net, sets[n], *tools) for n in ("train", "val"))
    return gallery, queries, val_scores(queries, sets["val"].labels, gallery, sets["train"].labels)


@pytest.mark.parametrize("stored", ["float32", "float16"])
@pytest.mark.parametrize("model", ["efficientnet-lite0", "tiny-clip"])
def test_scores_from_stored_block_inputs_equal_the_whole_backbone(
    model, stored, photos, tiny_clip_dir, tmp_path, monkeypatch
):
    monkeypatch.setattr(block_inputs, "STORED", np.dtype(stored))
    backbone, side = (
        ("efficientnet-lite0", 64) if model != "tiny-clip" else (str(tiny_clip_dir), 32)
    )
    net, sets, tools = _setup(backbone, side, photos, last_blocks=1)
    assert "text" not in blocks_of(net.backbone)[0]  # a CLIP model trains its image tower
    kept = capture_block_inputs(net, 1, sets, tools, folder=tmp_path, progress=no_progress)
    assert kept is not None
    tolerance = 1e-6 if stored == "float32" else 2e-3
    try:
        for _ in range(2):  # before training, and after the trained blocks changed
            _train_a_little(net)
            gallery, queries, scores = _full(net, sets, tools)
            torch.testing.assert_close(
                kept.embeddings(net, "train"), gallery, atol=tolerance, rtol=0
            )
            torch.testing.assert_close(kept.embeddings(net, "val"), queries, atol=tolerance, rtol=0)
            mine = val_scores(
                kept.embeddings(net, "val"), kept.labels("val"),
                kept.embeddings(net, "train"), kept.labels("train"),
            )  # fmt: skip
            assert mine == pytest.approx(scores)
    finally:
        kept.close()
    assert list(tmp_path.iterdir()) == []  # the stored inputs leave nothing behind


def test_backbones_it_cannot_apply_to_are_scored_in_full(photos, tmp_path):
    net, sets, tools = _setup("efficientnet-lite0", 64, photos, last_blocks=0)  # all train
    assert capture_block_inputs(net, 0, sets, tools, folder=tmp_path, progress=no_progress) is None
    set_trainable(net.backbone, 2)
    next(net.backbone.parameters()).requires_grad_(True)  # a trained layer before the blocks
    assert capture_block_inputs(net, 2, sets, tools, folder=tmp_path, progress=no_progress) is None

"""The fast fine-tuning recipe on real ETH-80 photos (64 px, packaged EfficientNet-Lite0, CPU):
backbone features cached by content hash + model stamp (reused, invalidated by a model change),
the time budget, and resuming after the process is killed mid-run."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from app.container import build_container
from app.domain.splits import SplitFractions
from app.domain.training import FinetuneConfig
from app.services.splitting import SplitOptions
from app.training.feature_cache import model_stamp
from conftest import eth80_subset

pytestmark = pytest.mark.slow

CONFIG = FinetuneConfig(
    backbone="efficientnet-lite0", image_size=64, frozen_epochs=3, unfrozen_epochs=0,
    classes_per_batch=4, images_per_class=3, scale=16.0, lr=2e-3, feature_views=2, fresh=True,
)  # fmt: skip

_RUN = """
import json, sys
from app.config import load_settings
from app.container import build_container
from app.domain.training import FinetuneConfig
kwargs, config, out = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
settings = load_settings(_env_file=None, **kwargs)
build_container(settings).finetune_service().run(FinetuneConfig(**config), out)
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """4 classes x 3 objects x 2 views, split 1/1/1 objects per class."""
    from app.config import load_settings

    root = tmp_path_factory.mktemp("fast")
    data = eth80_subset(root / "data", classes=4, groups=3, views=2)
    kwargs = {
        "products_dir": str(data), "index_dir": str(root / "index"),
        "database_url": f"sqlite:///{root / 'app.db'}", "splits_dir": str(root / "splits"),
        "models_dir": str(root / "models"), "embedding_model": "efficientnet-lite0",
    }  # fmt: skip
    settings = load_settings(_env_file=None, **kwargs)
    container = build_container(settings)
    fractions = SplitFractions(1 / 3, 1 / 3, 1 / 3)
    container.split_service().run(data, SplitOptions(seed=0, fractions=fractions))
    return kwargs, settings, container


def _cache_files(settings) -> dict[Path, int]:
    root = Path(settings.models_dir) / "feature_cache"
    return {path: path.stat().st_mtime_ns for path in root.glob("*/*/*.npy")}


def test_feature_cache_is_reused_and_invalidated_by_a_model_change(world, tmp_path):
    _, settings, container = world
    first = container.finetune_service().run(CONFIG, tmp_path / "a")
    files = _cache_files(settings)
    assert len(files) == 8 + 8  # one file per train and val image
    assert len({path.parts[-3] for path in files}) == 1  # one model stamp
    shapes = {np.load(path).shape for path in files}
    assert shapes == {(2, 1280), (1, 1280)}  # train: the image + 1 augmented view; val: 1
    again = container.finetune_service().run(CONFIG, tmp_path / "b")
    assert _cache_files(settings) == files  # nothing computed again
    assert [r.val_map for r in again.history] == pytest.approx([r.val_map for r in first.history])
    container.finetune_service().run(replace(CONFIG, image_size=56), tmp_path / "c")
    stamps = {path.parts[-3] for path in _cache_files(settings)}
    assert len(stamps) == 2  # another input size: another model stamp, new features


def test_model_stamp_changes_with_the_weights():
    layer = torch.nn.Linear(3, 2)
    pixels = {"crop": 64, "resize": 73, "mean": [0.5] * 3, "std": [0.5] * 3}
    before = model_stamp(layer, pixels)
    assert model_stamp(layer, pixels) == before
    assert model_stamp(layer, {**pixels, "crop": 56}) != before
    with torch.no_grad():
        layer.weight[0, 0] += 1e-3
    assert model_stamp(layer, pixels) != before


def test_time_budget_stops_at_the_end_of_the_epoch_and_keeps_the_best(world, tmp_path):
    _, _, container = world
    config = replace(CONFIG, frozen_epochs=3, max_minutes=1e-6)
    outcome = container.finetune_service().run(config, tmp_path)
    assert outcome.stopped_by_budget and not outcome.stopped_early
    assert [r.epoch for r in outcome.history] == [0, 1]
    assert (tmp_path / "best_model.pt").is_file() and (tmp_path / "latest_model.pt").is_file()
    resumed = container.finetune_service().run(replace(config, max_minutes=None, fresh=False),
                                               tmp_path)  # fmt: skip
    assert (resumed.start_epoch, resumed.last_epoch) == (2, 3) and not resumed.stopped_by_budget


def test_resume_after_the_process_is_killed(world, tmp_path):
    kwargs, _, container = world
    config = replace(CONFIG, frozen_epochs=1, unfrozen_epochs=8, patience=0, unfreeze_blocks=2)
    raw = dict(vars(config))
    cmd = [sys.executable, "-c", _RUN, json.dumps(kwargs), json.dumps(raw), str(tmp_path)]
    proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parents[2])
    history = tmp_path / "history.json"
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if history.is_file() and len(json.loads(history.read_text() or "[]")) >= 3:
                break  # epochs 0, 1 (frozen) and 2 (first unfrozen) are done
            time.sleep(0.1)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.kill()
    finally:
        proc.wait()
    saved = torch.load(tmp_path / "latest_model.pt", weights_only=True)
    assert 2 <= saved["epoch"] < 9 and saved["optimizer_state_dict"]["state"]
    resumed = container.finetune_service().run(replace(config, fresh=False), tmp_path)
    assert resumed.start_epoch == saved["epoch"] + 1 and resumed.last_epoch == 9
    assert [r.epoch for r in resumed.history] == list(range(10))


def test_a_larger_packaged_backbone_trains_and_serves(world, tmp_path):
    """`--backbone efficientnet-lite1`: its own weights (another feature-cache stamp), both phases,
    and the checkpoint serves as EMBEDDING_MODEL with the Lite1 backbone rebuilt."""
    from app.infrastructure.embedding.finetuned import FineTunedEmbedding

    _, settings, container = world
    stamps = {path.parts[-3] for path in _cache_files(settings)}
    config = replace(CONFIG, backbone="efficientnet-lite1", frozen_epochs=1, unfrozen_epochs=1)
    outcome = container.finetune_service().run(config, tmp_path)
    assert [r.phase for r in outcome.history] == [1, 1, 2]
    saved = torch.load(tmp_path / "best_model.pt", weights_only=True)
    assert saved["meta"]["backbone"] == "efficientnet-lite1"
    assert saved["meta"]["pixels"]["crop"] == 64
    assert len({path.parts[-3] for path in _cache_files(settings)} - stamps) == 1  # its own
    model = FineTunedEmbedding(tmp_path)
    assert model.embed_images([Image.new("RGB", (80, 60), (90, 140, 30))]).shape == (1, 512)

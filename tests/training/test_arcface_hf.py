"""The ArcFace trainer over a tiny Hugging Face backbone: gradient accumulation, the plateau
scheduler, selection on val mAP, epoch files, and early stopping (fast: synthetic photos)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from app.domain.training import FinetuneConfig, TrainingJob
from app.infrastructure.embedding.finetuned import FineTunedEmbedding, build_embedding_net
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
from app.services.progress import no_progress
from app.services.scanning import content_hash
from app.training.arcface import ArcFaceTrainer
from conftest import write_product_photo

COLOURS = [(200, 30, 30), (30, 180, 40), (30, 50, 210)]


def _items(root: Path, per_class: int, offset: int) -> list[tuple[str, int]]:
    items = []
    for label, colour in enumerate(COLOURS):
        for i in range(per_class):
            path = root / f"c{label}" / f"{offset + i}.jpg"
            write_product_photo(path, colour, seed=100 * label + offset + i)
            items.append((str(path), label))
    return items


@pytest.fixture(scope="module")
def tiny_resnet_dir(tmp_path_factory) -> Path:
    from tests.infrastructure.embedding.tiny_models import build_tiny_resnet

    return build_tiny_resnet(tmp_path_factory.mktemp("models") / "tiny-resnet")


@pytest.fixture
def job(tmp_path, tiny_resnet_dir):
    config = FinetuneConfig(
        backbone=str(tiny_resnet_dir), embedding_dim=8, frozen_epochs=1, unfrozen_epochs=2,
        classes_per_batch=3, images_per_class=2, accumulation=2, scheduler="plateau",
        select_metric="map", checkpoint_every=1, patience=0, scale=8.0,
    )  # fmt: skip
    return TrainingJob(
        classes=["c0", "c1", "c2"],
        train=_items(tmp_path / "data", 4, 0),
        val=_items(tmp_path / "data", 2, 50),
        out_dir=tmp_path / "model",
        config=config,
    )


def _trainer(job: TrainingJob) -> ArcFaceTrainer:
    prepare = PadResizePreprocessor(PreprocessOptions(size=48)).prepare
    return ArcFaceTrainer(
        network_factory=build_embedding_net, decode=prepare, digest=content_hash,
        progress=no_progress, feature_cache_dir=job.out_dir.parent / "features",
    )  # fmt: skip


def test_hf_backbone_trains_selects_on_map_and_loads(job):
    seen: list[int] = []
    outcome = _trainer(job).fit(job, on_epoch=lambda history: seen.append(len(history)))
    assert seen == [1, 2, 3, 4]
    assert (outcome.start_epoch, outcome.last_epoch, outcome.select_metric) == (1, 3, "map")
    maps = {r.epoch: r.val_map for r in outcome.history}
    assert maps[outcome.best_epoch] == max(maps.values())
    for epoch in (1, 2, 3):
        assert (job.out_dir / f"checkpoint_epoch_{epoch}.pt").is_file()
    saved = torch.load(job.out_dir / "latest_model.pt", weights_only=True)
    assert saved["config"]["scheduler"] == "plateau" and saved["scheduler_state_dict"] is not None
    model = FineTunedEmbedding(job.out_dir / "best_model.pt")
    from PIL import Image

    assert model.embed_images([Image.new("RGB", (40, 30), (200, 30, 30))]).shape == (1, 8)


def test_patience_stops_early_and_a_stopped_run_stays_stopped(job):
    config = FinetuneConfig(**{**job.config.__dict__, "patience": 1, "unfrozen_epochs": 6})
    job = TrainingJob(job.classes, job.train, job.val, job.out_dir, config)
    outcome = _trainer(job).fit(job)
    if not outcome.stopped_early:
        pytest.skip("the score kept improving every epoch (nothing to stop)")
    assert outcome.last_epoch < config.total_epochs
    again = _trainer(job).fit(job)
    assert again.stopped_early and again.start_epoch == outcome.last_epoch + 1
    assert again.last_epoch == outcome.last_epoch
    # with more patience the stop no longer holds: one more epoch is trained
    patient = FinetuneConfig(
        **{**config.__dict__, "patience": 0, "unfrozen_epochs": outcome.last_epoch}
    )
    resumed = _trainer(job).fit(TrainingJob(job.classes, job.train, job.val, job.out_dir, patient))
    assert not resumed.stopped_early
    assert (resumed.start_epoch, resumed.last_epoch) == (outcome.last_epoch + 1,) * 2


def test_checkpoints_written_with_the_old_key_names_still_resume(job):
    first = _trainer(job).fit(job)
    latest = job.out_dir / "latest_model.pt"
    saved = torch.load(latest, weights_only=True)
    old = {"model_state_dict": "model", "optimizer_state_dict": "optimizer",
           "scheduler_state_dict": "scheduler", "best_metric": "best_score"}  # fmt: skip
    torch.save({old.get(key, key): value for key, value in saved.items()}, latest)
    more = FinetuneConfig(**{**job.config.__dict__, "unfrozen_epochs": 3})
    resumed = _trainer(job).fit(TrainingJob(job.classes, job.train, job.val, job.out_dir, more))
    assert (resumed.start_epoch, resumed.last_epoch) == (first.last_epoch + 1, 4)
    assert set(old) <= set(torch.load(latest, weights_only=True))


def test_a_stalled_frozen_phase_goes_on_unfrozen_instead_of_stopping(job):
    # a learning rate too small to change any score: every epoch stalls
    config = FinetuneConfig(**{**job.config.__dict__, "lr": 1e-12, "patience": 1,
                               "frozen_epochs": 6, "unfrozen_epochs": 2})  # fmt: skip
    job = TrainingJob(job.classes, job.train, job.val, job.out_dir, config)
    outcome = _trainer(job).fit(job)
    assert [(r.epoch, r.phase) for r in outcome.history][:3] == [(0, 1), (1, 1), (7, 2)]
    assert outcome.last_epoch >= 7
    saved = torch.load(job.out_dir / "latest_model.pt", weights_only=True)
    assert saved["phase"] == 2 and saved["epoch"] == outcome.last_epoch

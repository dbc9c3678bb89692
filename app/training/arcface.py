"""Metric learning with ArcFace (pytorch-metric-learning): the MetricLearner port's adapter.

Phase 1 trains the head (and the class centres) on a frozen backbone with margin 0; phase 2
unfreezes the backbone (at a lower learning rate) with the full margin. Every epoch ends with val
Recall@1 and mAP against the train gallery: the best network by the selected one (Recall@1 unless
told otherwise) is kept as best_model.pt, the newest as latest_model.pt (a later run resumes from
it), and training stops after `patience` epochs without progress. Epoch 0 is the untrained
network, so best_model.pt is never worse than the start.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import torch
from pytorch_metric_learning.losses import ArcFaceLoss

from app.domain.errors import ModelMismatch, NotFound
from app.domain.training import EpochRecord, TrainingJob, TrainingOutcome
from app.training import checkpoints
from app.training.augment import Normalise
from app.training.data import Decode, ImageSet, load_images
from app.training.epochs import (
    StepParts,
    backbone_features,
    head_embeddings,
    pk_batches,
    train_epoch,
    val_scores,
)
from app.training.runtime import choose_precision, pick_device, seed_everything
from app.training.state import (
    RunState,
    build_optimizer,
    build_scheduler,
    init_head,
    payload,
    restore_run,
    restore_weights,
)

logger = logging.getLogger("app.training")

NetworkFactory = Callable[..., Any]  # (backbone, embedding_dim, image_size, device, num_threads)
_MATCHED_META = ("backbone", "embedding_dim", "pixels")


class ArcFaceTrainer:
    def __init__(
        self,
        network_factory: NetworkFactory,
        decode: Decode,
        progress: Callable[..., Any],
        num_threads: int = 0,
    ) -> None:
        self._factory = network_factory
        self._decode = decode
        self._progress = progress
        self._threads = num_threads
        self._frozen_cache: tuple[torch.Tensor, torch.Tensor] | None = None

    def fit(
        self, job: TrainingJob, on_epoch: Callable[[list[EpochRecord]], None] | None = None
    ) -> TrainingOutcome:
        started = time.perf_counter()
        cfg = job.config
        precision = choose_precision(pick_device(cfg.device), cfg.amp, cfg.tf32)
        seed_everything(cfg.seed)
        device = str(precision.device)
        net = self._factory(cfg.backbone, cfg.embedding_dim, cfg.image_size, device, self._threads)
        init_head(net)
        loss = ArcFaceLoss(
            num_classes=len(job.classes),
            embedding_size=cfg.embedding_dim,
            margin=math.degrees(cfg.margin),
            scale=cfg.scale,
        ).to(precision.device)
        scaler = torch.amp.GradScaler("cuda") if precision.grad_scaler else None
        parts = StepParts(net, loss, build_optimizer(net, loss, cfg), scaler, precision)
        saved = self._saved(job, net)
        run = RunState() if saved is None else restore_run(saved, cfg.select_metric)
        run.stopped_early = cfg.patience > 0 and run.bad_epochs >= cfg.patience  # this patience
        start_epoch = run.epoch + 1
        if start_epoch <= cfg.total_epochs and not run.stopped_early:
            self._train(job, parts, run, saved, on_epoch=on_epoch)
        elif on_epoch is not None:
            on_epoch(run.history)
        out = job.out_dir
        return TrainingOutcome(
            out_dir=str(out),
            best_path=str(out / checkpoints.BEST_FILE),
            latest_path=str(out / checkpoints.LATEST_FILE),
            start_epoch=start_epoch,
            last_epoch=run.epoch,
            best_epoch=run.best_epoch,
            select_metric=cfg.select_metric,
            stopped_early=run.stopped_early,
            device=device,
            precision=precision.describe(),
            seconds=time.perf_counter() - started,
            history=list(run.history),
        )

    def _saved(self, job: TrainingJob, net: Any) -> dict[str, Any] | None:
        """The latest checkpoint to resume from, checked against this job (None: start afresh)."""
        latest = job.out_dir / checkpoints.LATEST_FILE
        if job.config.fresh or not latest.is_file():
            checkpoints.clear(job.out_dir)
            return None
        saved = checkpoints.load(latest)
        before = {key: saved.get("meta", {}).get(key) for key in _MATCHED_META}
        now = {key: net.meta.get(key) for key in _MATCHED_META}
        if before != now or saved.get("classes") != list(job.classes):
            raise ModelMismatch(
                f"the checkpoints in {job.out_dir} are of {_describe(before, saved.get('classes'))}"
                f"; this run asks for {_describe(now, job.classes)}: use --fresh to start over, "
                "or another --out"
            )
        return saved

    def _train(
        self,
        job: TrainingJob,
        parts: StepParts,
        run: RunState,
        saved: dict[str, Any] | None,
        *,
        on_epoch: Callable[[list[EpochRecord]], None] | None,
    ) -> None:
        cfg = job.config
        self._frozen_cache = None
        pixels = parts.net.meta["pixels"]
        norm = Normalise(int(pixels["crop"]), tuple(pixels["mean"]), tuple(pixels["std"]))
        train = load_images(
            job.train, self._decode, int(pixels["resize"]), self._progress, "train images"
        )
        val = load_images(
            job.val, self._decode, int(pixels["resize"]), self._progress, "val images"
        )
        if len(train) == 0 or len(val) == 0:
            raise NotFound("no usable train or val images: run `split` again (see --val)")
        scheduler = self._enter_phase(parts, cfg, cfg.phase_of(run.epoch + 1), saved, run)
        if saved is None:
            self._baseline(job, parts, run, (train, val, norm), scheduler)
            if on_epoch is not None:
                on_epoch(run.history)
        for epoch in range(run.epoch + 1, cfg.total_epochs + 1):
            if cfg.phase_of(epoch) != run.phase:
                scheduler = self._enter_phase(parts, cfg, cfg.phase_of(epoch), None, run)
            self._epoch(job, parts, run, (train, val, norm), scheduler=scheduler, epoch=epoch)
            if on_epoch is not None:
                on_epoch(run.history)
            if run.stopped_early:
                break

    def _baseline(self, job, parts, run, data, scheduler) -> None:
        started = time.perf_counter()
        recall, mean_ap = self._val_scores(parts, data, frozen=True)
        lr = parts.optimizer.param_groups[0]["lr"]
        seconds = time.perf_counter() - started
        run.history.append(EpochRecord(0, 1, None, recall, lr, 0.0, seconds, mean_ap))
        run.best, run.best_epoch = run.history[0].score(job.config.select_metric), 0
        self._save(job, parts, run, scheduler, best=True)

    def _epoch(self, job, parts, run, data, *, scheduler, epoch: int) -> None:
        started = time.perf_counter()
        train, _, norm = data
        cfg = job.config
        frozen = run.phase == 1
        lr = parts.optimizer.param_groups[0]["lr"]
        seed = cfg.seed * 1000 + epoch
        batches = pk_batches(train.labels, cfg.classes_per_batch, cfg.images_per_class, seed)
        desc = f"epoch {epoch}/{cfg.total_epochs} (phase {run.phase})"
        bar = self._progress(total=sum(len(b) for b in batches), desc=desc)
        try:
            mean_loss = train_epoch(
                parts, train, batches, norm, (frozen, cfg.accumulation, seed), on_batch=bar.update
            )
        finally:
            bar.close()
        recall, mean_ap = self._val_scores(parts, data, frozen=frozen)
        margin = float(parts.loss.margin)
        seconds = time.perf_counter() - started
        run.history.append(
            EpochRecord(epoch, run.phase, mean_loss, recall, lr, margin, seconds, mean_ap)
        )
        run.epoch = epoch
        score = run.history[-1].score(cfg.select_metric)
        if cfg.scheduler == "plateau":
            scheduler.step(score)
        else:
            scheduler.step()
        improved = score > run.best
        if improved:
            run.best, run.best_epoch, run.bad_epochs = score, epoch, 0
        else:
            run.bad_epochs += 1
        run.stopped_early = cfg.patience > 0 and run.bad_epochs >= cfg.patience
        if run.stopped_early and epoch < cfg.total_epochs:
            logger.warning(
                "stopping early: no better val %s for %d epochs", cfg.select_metric, cfg.patience
            )
        self._save(job, parts, run, scheduler, best=improved)
        if cfg.checkpoint_every and epoch % cfg.checkpoint_every == 0:
            checkpoints.save(
                job.out_dir / checkpoints.epoch_file(epoch), payload(job, parts, run, scheduler)
            )

    def _val_scores(
        self, parts: StepParts, data: tuple[ImageSet, ImageSet, Normalise], frozen: bool
    ) -> tuple[float, float]:
        """Val queries against the train gallery (centre crops). A frozen backbone's features
        do not change, so they are computed once."""
        train, val, norm = data
        if frozen and self._frozen_cache is not None:
            gallery, queries = self._frozen_cache
        else:
            gallery = backbone_features(parts.net, train, norm, parts.precision)
            queries = backbone_features(parts.net, val, norm, parts.precision)
            self._frozen_cache = (gallery, queries) if frozen else None
        return val_scores(
            head_embeddings(parts.net, queries),
            val.labels,
            head_embeddings(parts.net, gallery),
            train.labels,
        )

    def _enter_phase(self, parts: StepParts, cfg, phase: int, saved, run: RunState) -> Any:
        """Freeze or unfreeze the backbone, set the margin, start this phase's lr schedule;
        when resuming inside the same phase, continue the saved schedule and optimiser."""
        frozen = phase == 1
        for param in parts.net.backbone.parameters():
            param.requires_grad_(not frozen)
        parts.loss.margin = 0.0 if frozen else float(cfg.margin)
        for group in parts.optimizer.param_groups:
            group["lr"] = group.get("initial_lr", group["lr"])
        scheduler = build_scheduler(parts.optimizer, cfg)
        if saved is not None:
            if saved.get("phase") == phase and saved.get("scheduler") is not None:
                scheduler.load_state_dict(saved["scheduler"])
            parts.optimizer.load_state_dict(saved["optimizer"])
            if parts.scaler is not None and saved.get("scaler") is not None:
                parts.scaler.load_state_dict(saved["scaler"])
            restore_weights(parts, saved)
            if saved.get("phase") != phase:
                for group in parts.optimizer.param_groups:
                    group["lr"] = group.get("initial_lr", group["lr"])
        if run.phase != phase:
            run.bad_epochs = 0  # every phase gets its own patience
        run.phase = phase
        return scheduler

    def _save(self, job, parts, run, scheduler, best: bool) -> None:
        data = payload(job, parts, run, scheduler)
        checkpoints.save(job.out_dir / checkpoints.LATEST_FILE, data)
        if best:
            checkpoints.save(job.out_dir / checkpoints.BEST_FILE, data)


def _describe(meta: dict[str, Any], classes: Any) -> str:
    pixels = meta.get("pixels") or {}
    n = len(classes) if isinstance(classes, list) else "?"
    return (
        f"{meta.get('backbone')} -> {meta.get('embedding_dim')}-d, input {pixels.get('crop')} px,"
        f" {n} classes"
    )

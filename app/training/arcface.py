"""Metric learning with ArcFace (pytorch-metric-learning): the MetricLearner port's adapter.

Phase 1 trains the head and the class centres on cached backbone features (the centre crop and a
few augmented views of each image, computed once and kept on disk by content hash + model stamp)
with margin 0: seconds per epoch. Phase 2 unfreezes the last blocks of the backbone (lower
learning rate), streams the images from disk, and ramps the margin up. Every epoch ends with val
Recall@1 and mAP against the train gallery: the best network by the selected score is kept as
best_model.pt, the newest as latest_model.pt (a later run resumes from it); a phase stops after
`patience` epochs without progress, the run at the end of the epoch that crosses `max_minutes`.
Epoch 0 is the untrained network, so best_model.pt is never worse on val than the start.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from pytorch_metric_learning.losses import ArcFaceLoss

from app.domain.errors import NotFound
from app.domain.training import EpochRecord, TrainingJob, TrainingOutcome, arcface_defaults
from app.heap import release_memory
from app.training import checkpoints
from app.training.arcface_data import DataSources, RunData
from app.training.block_inputs import capture_block_inputs
from app.training.data import Decode, Digest
from app.training.epochs import (
    StepParts,
    head_embeddings,
    net_embeddings,
    pk_batches,
    train_epoch,
    train_head_epoch,
    val_scores,
)
from app.training.runtime import (
    Budget,
    choose_precision,
    cpu_threads,
    pick_device,
    seed_everything,
)
from app.training.state import (
    RunState,
    build_optimizer,
    build_scheduler,
    init_head,
    payload,
    restore_run,
    restore_weights,
    resumable,
)
from app.training.unfreeze import set_trainable

logger = logging.getLogger("app.training")

NetworkFactory = Callable[..., Any]  # (backbone, embedding_dim, image_size, device, num_threads)


class ArcFaceTrainer:
    def __init__(
        self,
        *,
        network_factory: NetworkFactory,
        decode: Decode,
        digest: Digest,
        progress: Callable[..., Any],
        feature_cache_dir: Path,
        num_threads: int = 0,
    ) -> None:
        self._factory = network_factory
        self._progress = progress
        self._sources = DataSources(decode, digest, progress, Path(feature_cache_dir))
        self._threads = num_threads

    def fit(
        self, job: TrainingJob, on_epoch: Callable[[list[EpochRecord]], None] | None = None
    ) -> TrainingOutcome:
        budget = Budget(job.config.max_minutes)
        cfg = job.config
        precision = choose_precision(pick_device(cfg.device), cfg.amp, cfg.tf32)
        seed_everything(cfg.seed)
        device = str(precision.device)
        net = self._factory(cfg.backbone, cfg.embedding_dim, cfg.image_size, device, self._threads)
        init_head(net)
        auto_scale, auto_margin = arcface_defaults(len(job.classes))
        scale, margin = (
            cfg.scale or auto_scale,
            cfg.margin if cfg.margin is not None else auto_margin,
        )
        loss = ArcFaceLoss(
            num_classes=len(job.classes),
            embedding_size=cfg.embedding_dim,
            margin=math.degrees(margin),
            scale=scale,
        ).to(precision.device)
        scaler = torch.amp.GradScaler("cuda") if precision.grad_scaler else None
        parts = StepParts(net, loss, build_optimizer(net, loss, cfg), scaler, precision)
        saved = resumable(job, net)
        run = RunState() if saved is None else restore_run(saved, cfg.select_metric)
        run.stopped_early = cfg.patience > 0 and run.bad_epochs >= cfg.patience  # this patience
        start_epoch = run.epoch + 1
        if start_epoch <= cfg.total_epochs and not run.stopped_early:
            self._train(job, parts, run, saved, on_epoch=on_epoch, budget=budget, margin=margin)
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
            seconds=budget.seconds(),
            history=list(run.history),
            stopped_by_budget=run.stopped_by_budget,
            scale=float(scale),
            margin=float(margin),
        )

    def _train(self, job, parts, run, saved, *, on_epoch, budget: Budget, margin: float) -> None:
        cfg = job.config
        data = self._sources.prepare(job, parts, needs_features=run.epoch < cfg.frozen_epochs)
        try:
            if len(data.train) == 0 or len(data.val) == 0:
                raise NotFound("no usable train or val images: run `split` again (see --val)")
            scheduler = self._enter_phase(
                parts, job, cfg.phase_of(run.epoch + 1), saved, run, data=data
            )
            if saved is None:
                self._baseline(job, parts, run, data, scheduler)
                if on_epoch is not None:
                    on_epoch(run.history)
            while (epoch := run.epoch + 1) <= cfg.total_epochs:  # phase 1 may end early
                if cfg.phase_of(epoch) != run.phase:
                    scheduler = self._enter_phase(
                        parts, job, cfg.phase_of(epoch), None, run, data=data
                    )
                parts.loss.margin = cfg.margin_at(epoch, margin)
                self._epoch(job, parts, run, data, scheduler=scheduler, epoch=epoch)
                if on_epoch is not None:
                    on_epoch(run.history)
                if run.stopped_early:
                    break
                if budget.spent() and run.epoch < cfg.total_epochs:
                    logger.warning("stopping: --max-minutes %g reached", cfg.max_minutes)
                    run.stopped_by_budget = True
                    break
        finally:
            if data.block_inputs is not None:
                data.block_inputs.close()
            data.reader.close()
            release_memory()

    def _baseline(self, job, parts, run, data: RunData, scheduler) -> None:
        started = time.perf_counter()
        recall, mean_ap = self._val_scores(parts, data, frozen=True)
        lr = parts.optimizer.param_groups[0]["lr"]
        seconds = time.perf_counter() - started
        run.history.append(EpochRecord(0, 1, None, recall, lr, 0.0, seconds, mean_ap))
        run.best, run.best_epoch = run.history[0].score(job.config.select_metric), 0
        self._save(job, parts, run, scheduler, best=True)

    def _epoch(self, job, parts, run, data: RunData, *, scheduler, epoch: int) -> None:
        started = time.perf_counter()
        cfg = job.config
        frozen = run.phase == 1
        lr = parts.optimizer.param_groups[0]["lr"]
        seed = cfg.seed * 1000 + epoch
        batches = pk_batches(data.train.labels, cfg.classes_per_batch, cfg.images_per_class, seed)
        if frozen:
            with cpu_threads(1):  # tiny steps: 8x faster than 2 threads on a busy 2-core CPU
                mean_loss = train_head_epoch(parts, data.features, data.train.labels, batches, seed)
        else:
            desc = f"epoch {epoch}/{cfg.total_epochs} (last {cfg.unfreeze_blocks or 'all'} blocks)"
            bar = self._progress(total=sum(len(b) for b in batches), desc=desc)
            try:
                mean_loss = train_epoch(parts, (data.train, data.reader), batches, data.norm,
                                        (cfg.accumulation, seed), on_batch=bar.update)  # fmt: skip
            finally:
                bar.close()
        recall, mean_ap = self._val_scores(parts, data, frozen=frozen)
        margin = float(parts.loss.margin)
        seconds = time.perf_counter() - started
        run.history.append(
            EpochRecord(epoch, run.phase, mean_loss, recall, lr, margin, seconds, mean_ap)
        )
        run.epoch = epoch
        self._progress_run(job, parts, run, scheduler)

    def _progress_run(self, job, parts, run, scheduler) -> None:
        """Scheduler step, best model, patience and checkpoints after an epoch."""
        cfg = job.config
        score = run.history[-1].score(cfg.select_metric)
        if cfg.scheduler == "plateau":
            scheduler.step(score)
        else:
            scheduler.step()
        improved = score > run.best
        if improved:
            run.best, run.best_epoch, run.bad_epochs = score, run.epoch, 0
        else:
            run.bad_epochs += 1
        run.stopped_early = cfg.patience > 0 and run.bad_epochs >= cfg.patience
        if run.stopped_early and run.phase == 1 and cfg.unfrozen_epochs:
            logger.info("phase 1 stalled for %d epochs: unfreezing now", cfg.patience)
            run.stopped_early, run.bad_epochs = False, 0
            run.epoch = cfg.frozen_epochs  # go on with phase 2
        elif run.stopped_early and run.epoch < cfg.total_epochs:
            logger.warning(
                "stopping early: no better val %s for %d epochs", cfg.select_metric, cfg.patience
            )
        self._save(job, parts, run, scheduler, best=improved)
        if cfg.checkpoint_every and run.epoch % cfg.checkpoint_every == 0:
            checkpoints.save(
                job.out_dir / checkpoints.epoch_file(run.epoch),
                payload(job, parts, run, scheduler),
            )

    def _val_scores(self, parts: StepParts, data: RunData, frozen: bool) -> tuple[float, float]:
        """Val queries against the train gallery (centre crops): from the cached features while
        the backbone is frozen, from the stored inputs of the trained blocks in phase 2, else
        computed now."""
        stored = data.block_inputs
        if stored is not None:
            gallery, queries = (stored.embeddings(parts.net, name) for name in ("train", "val"))
            return val_scores(queries, stored.labels("val"), gallery, stored.labels("train"))
        if frozen and data.features is not None and data.val_features is not None:
            device = parts.precision.device
            with cpu_threads(1):
                gallery = head_embeddings(parts.net, data.features[:, 0].to(device))
                queries = head_embeddings(parts.net, data.val_features[:, 0].to(device))
                return val_scores(queries, data.val.labels, gallery, data.train.labels)
        tools = (data.reader, data.norm, parts.precision)
        gallery = net_embeddings(parts.net, data.train, *tools)
        queries = net_embeddings(parts.net, data.val, *tools)
        scores = val_scores(queries, data.val.labels, gallery, data.train.labels)
        release_memory()  # the forward passes' buffers, before the next epoch's training
        return scores

    def _enter_phase(self, parts: StepParts, job, phase: int, saved, run: RunState, *, data) -> Any:
        """Freeze the backbone (phase 1) or unfreeze its last blocks (phase 2; the frozen part's
        output for val scoring computed once), start this phase's lr schedule; when resuming
        inside the same phase, continue the saved schedule."""
        cfg = job.config
        if phase == 1:
            parts.net.backbone.requires_grad_(False)
        else:
            trained = set_trainable(parts.net.backbone, cfg.unfreeze_blocks)
            logger.info("phase 2: %d backbone parameters train", trained)
            data.features = data.val_features = None  # of no more use: let them go
            sets = {"train": data.train, "val": data.val}
            tools = (data.reader, data.norm, parts.precision)
            data.block_inputs = capture_block_inputs(
                parts.net,
                cfg.unfreeze_blocks,
                sets,
                tools,
                folder=job.out_dir,
                progress=self._progress,
            )
        for group in parts.optimizer.param_groups:
            group["lr"] = group.get("initial_lr", group["lr"])
        scheduler = build_scheduler(parts.optimizer, cfg)
        if saved is not None:
            restore_weights(parts, saved, scheduler if saved.get("phase") == phase else None)
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

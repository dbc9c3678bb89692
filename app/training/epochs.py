"""One training epoch over P x K batches, and val Recall@1 against the train gallery."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_metric_learning.samplers import MPerClassSampler

from app.domain import metrics
from app.training.augment import Normalise, augment, centre_crop
from app.training.data import ImageSet, Reader
from app.training.runtime import Precision
from app.training.unfreeze import freeze_modes

EVAL_BATCH = 32  # images per forward pass when scoring val (64 held 0.75 GB more at 224 px)
EVAL_ROWS = 1024  # feature rows / queries per step when scoring val
MAP_DEPTH = 1000


@dataclass
class StepParts:
    """What an epoch updates: the network, the loss (with its class centres), the optimiser."""

    net: Any
    loss: Any
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    precision: Precision


def pk_batches(labels: torch.Tensor, p: int, k: int, seed: int) -> list[torch.Tensor]:
    """One epoch of index batches with P classes x K images each (about one pass of the set)."""
    n_classes = int(torch.unique(labels).numel())
    p = max(1, min(p, n_classes))
    size = p * k
    np.random.seed(seed % (2**32))  # the sampler draws from numpy's global state
    sampler = MPerClassSampler(
        labels.numpy(), m=k, batch_size=size, length_before_new_iter=max(len(labels), size)
    )
    order = torch.tensor(list(iter(sampler)), dtype=torch.int64)
    return list(order.split(size))


def train_epoch(
    parts: StepParts,
    data: tuple[ImageSet, Reader],
    batches: list[torch.Tensor],
    norm: Normalise,
    options: tuple[int, int],
    *,
    on_batch: Callable[[int], None],
) -> float:
    """Mean loss of one pass with the backbone (partly) trainable; images decoded batch by
    batch, the next while this one trains. `options`: (accumulation steps, seed)."""
    images, reader = data
    accumulation, seed = options
    generator = torch.Generator().manual_seed(seed)
    device = parts.precision.device
    parts.net.train()
    freeze_modes(parts.net.backbone)
    parts.optimizer.zero_grad(set_to_none=True)
    total, count = 0.0, 0
    for step, (batch, labels) in enumerate(reader.batches(images, batches), start=1):
        if len(labels) == 0:
            continue
        pixels = augment(batch.to(device), norm, generator)
        with parts.precision.autocast():
            embeddings = parts.net(pixels)
        loss = parts.loss(embeddings.float(), labels.to(device))
        _backward(parts, loss / accumulation)
        if step % accumulation == 0 or step == len(batches):
            _step(parts)
        total += float(loss.detach()) * len(labels)
        count += len(labels)
        on_batch(len(labels))
    return total / max(1, count)


def train_head_epoch(
    parts: StepParts,
    features: torch.Tensor,
    labels: torch.Tensor,
    batches: list[torch.Tensor],
    seed: int,
) -> float:
    """Mean loss of one pass of the head (and class centres) over cached backbone features
    (N, views, D): each image is seen as one of its views, drawn at random."""
    generator = torch.Generator().manual_seed(seed)
    device = parts.precision.device
    parts.net.head.train()
    total, count = 0.0, 0
    for index in batches:
        view = torch.randint(features.shape[1], (len(index),), generator=generator)
        rows = features[index, view].float().to(device)
        embeddings = F.normalize(parts.net.head(rows).float(), dim=1)
        loss = parts.loss(embeddings, labels[index].to(device))
        _backward(parts, loss)
        _step(parts)
        total += float(loss.detach()) * len(index)
        count += len(index)
    return total / max(1, count)


def _backward(parts: StepParts, loss: torch.Tensor) -> None:
    if parts.scaler is not None:
        parts.scaler.scale(loss).backward()
    else:
        loss.backward()


def _step(parts: StepParts) -> None:
    if parts.scaler is not None:
        parts.scaler.step(parts.optimizer)
        parts.scaler.update()
    else:
        parts.optimizer.step()
    parts.optimizer.zero_grad(set_to_none=True)


@torch.inference_mode()
def net_embeddings(
    net: Any, data: ImageSet, reader: Reader, norm: Normalise, precision: Precision
) -> torch.Tensor:
    """Unit-length embeddings of the centre crops (eval mode), decoded from disk batch by batch;
    only the (N, embedding size) result is kept."""
    net.eval()
    order = list(torch.arange(len(data)).split(EVAL_BATCH))
    blocks = []
    for images, _ in reader.batches(data, order):
        pixels = centre_crop(images.to(precision.device), norm)
        with precision.autocast():
            blocks.append(head_embeddings(net, net.backbone(pixels).float()))
    return torch.cat(blocks) if blocks else torch.zeros(0, 1, device=precision.device)


@torch.inference_mode()
def head_embeddings(net: Any, features: torch.Tensor) -> torch.Tensor:
    """Unit-length head outputs of backbone features, EVAL_ROWS rows at a time (the float32
    copy of float16 cached features is never made for the whole set at once)."""
    net.eval()
    out = [
        F.normalize(net.head(chunk.float()).float(), dim=1) for chunk in features.split(EVAL_ROWS)
    ]
    return torch.cat(out) if out else torch.zeros(0, net.head.out_features)


def val_scores(
    queries: torch.Tensor, q_labels: torch.Tensor, gallery: torch.Tensor, g_labels: torch.Tensor
) -> tuple[float, float]:
    """(Recall@1, mAP over the best MAP_DEPTH) of the queries against the gallery; the
    similarity matrix is made EVAL_ROWS queries at a time."""
    if queries.shape[0] == 0 or gallery.shape[0] == 0:
        return 0.0, 0.0
    depth = min(MAP_DEPTH, gallery.shape[0])
    order = torch.cat(
        [(chunk @ gallery.T).topk(depth, dim=1).indices.cpu() for chunk in queries.split(EVAL_ROWS)]
    )
    hits = metrics.matches(g_labels[order].numpy(), q_labels.numpy())
    n_classes = int(max(q_labels.max(), g_labels.max())) + 1
    n_relevant = torch.bincount(g_labels, minlength=n_classes)[q_labels].numpy()
    return metrics.recall_at_k(hits, 1), metrics.mean_average_precision(hits, n_relevant)

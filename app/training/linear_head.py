"""A linear classifier trained on frozen embeddings (Adam, cross-entropy), deterministic by seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.heads import TrainOptions


@dataclass(frozen=True)
class FitResult:
    state_dict: dict  # {"weight": (C, D), "bias": (C,)} float32 tensors
    val_accuracy: float | None
    train_size: int
    val_size: int


def stratified_split(
    targets: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices): about `val_fraction` of each class held out.

    A class keeps at least one example for training; a class of one goes to training only.
    """
    rng = np.random.default_rng(seed)
    train, val = [], []
    for cls in np.unique(targets):
        members = rng.permutation(np.flatnonzero(targets == cls))
        n_val = min(round(len(members) * val_fraction), len(members) - 1)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def fit_linear_head(
    vectors: np.ndarray, targets: np.ndarray, n_classes: int, options: TrainOptions
) -> FitResult:
    """Train `Linear(D, n_classes)` on rows of `vectors` with integer `targets`.

    Unit-length embeddings have components of about 1/sqrt(D); the layer trains on inputs scaled
    by sqrt(D) (components of unit size, so the default learning rate moves the logits at a useful
    speed), and the scale is folded into the saved weight: the result is a plain linear layer on
    the unit-length embeddings.
    """
    import torch

    from app.training.runtime import cpu_threads

    scale = float(np.sqrt(vectors.shape[1]))
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32)) * scale
    y = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    train_idx, val_idx = stratified_split(targets, options.val_fraction, options.seed)
    generator = torch.Generator().manual_seed(options.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(options.seed)
        layer = torch.nn.Linear(x.shape[1], n_classes)
    optimiser = torch.optim.Adam(layer.parameters(), lr=options.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    train_rows = torch.from_numpy(train_idx)
    layer.train()
    # batches of a few rows through one small layer: extra threads cost more than they give
    # (measured 10-20x slower with 2 threads on 2 busy cores)
    with cpu_threads(1):
        for _ in range(options.epochs):
            order = train_rows[torch.randperm(len(train_rows), generator=generator)]
            for start in range(0, len(order), options.batch_size):
                batch = order[start : start + options.batch_size]
                optimiser.zero_grad()
                loss_fn(layer(x[batch]), y[batch]).backward()
                optimiser.step()
    layer.eval()
    val_accuracy = None
    if len(val_idx):
        with torch.no_grad():
            predicted = layer(x[torch.from_numpy(val_idx)]).argmax(dim=1).numpy()
        val_accuracy = float((predicted == targets[val_idx]).mean())
    state = {
        "weight": (layer.weight.detach() * scale).contiguous(),
        "bias": layer.bias.detach().clone(),
    }
    return FitResult(state, val_accuracy, len(train_idx), len(val_idx))

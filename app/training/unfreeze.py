"""Partial unfreezing: only the last N blocks of a backbone (and what follows them) train.

The blocks are the backbone's longest `nn.ModuleList` (EfficientNet's `_blocks`, a transformer's
`encoder.layer(s)`; of a CLIP / SigLIP model, the image tower's, never the text tower's).
Parameters registered before the first trained block (stem, earlier blocks) stay frozen, those
after the last block (final convolution, norms, projections) train. Frozen modules stay in eval
mode, so their batch-norm statistics stay as pretrained.
"""

from __future__ import annotations

from torch import nn


def blocks_of(backbone: nn.Module) -> tuple[str, nn.ModuleList] | None:
    """(qualified name, module list) of the backbone's longest list of blocks, if any; lists
    under a `text*` module (a text-image model's text tower) never see an image."""
    lists = [
        (n, m)
        for n, m in backbone.named_modules()
        if isinstance(m, nn.ModuleList) and not any(p.startswith("text") for p in n.split("."))
    ]
    return max(lists, key=lambda item: len(item[1]), default=None)


def first_trained(backbone: nn.Module, last_blocks: int) -> tuple[str, nn.Module] | None:
    """(qualified name, module) of the first of the last `last_blocks` blocks; None when the
    whole backbone trains (0, no blocks found, or at least as many as there are)."""
    found = blocks_of(backbone)
    if last_blocks <= 0 or found is None or last_blocks >= len(found[1]):
        return None
    name, blocks = found
    first = len(blocks) - last_blocks
    return f"{name}.{first}", blocks[first]


def set_trainable(backbone: nn.Module, last_blocks: int) -> int:
    """Unfreeze the last `last_blocks` blocks and what follows (0 or no blocks found: all);
    freeze the rest. Returns the number of trainable parameters."""
    first = first_trained(backbone, last_blocks)
    if first is None:
        trainable = {name for name, _ in backbone.named_parameters()}
    else:
        prefix = f"{first[0]}."
        names = [n for n, _ in backbone.named_parameters()]
        start = next(i for i, n in enumerate(names) if n.startswith(prefix))
        trainable = set(names[start:])
    count = 0
    for name, param in backbone.named_parameters():
        param.requires_grad_(name in trainable)
        count += param.numel() if name in trainable else 0
    return count


def freeze_modes(backbone: nn.Module) -> None:
    """Eval mode for every module whose own parameters are all frozen (batch norm included)."""
    for module in backbone.modules():
        own = list(module.parameters(recurse=False))
        if own and not any(p.requires_grad for p in own):
            module.eval()

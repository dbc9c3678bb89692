"""Partial unfreezing: only the last N blocks of a backbone (and what follows them) train.

The blocks are the backbone's longest `nn.ModuleList` (EfficientNet's `_blocks`, a transformer's
`encoder.layer(s)`). Parameters registered before the first trained block (stem, earlier blocks)
stay frozen, those after the last block (final convolution, norms, projections) train. Frozen
modules stay in eval mode, so their batch-norm statistics stay as pretrained.
"""

from __future__ import annotations

from torch import nn


def blocks_of(backbone: nn.Module) -> tuple[str, nn.ModuleList] | None:
    """(qualified name, module list) of the backbone's longest list of blocks, if any."""
    lists = [(n, m) for n, m in backbone.named_modules() if isinstance(m, nn.ModuleList)]
    return max(lists, key=lambda item: len(item[1]), default=None)


def set_trainable(backbone: nn.Module, last_blocks: int) -> int:
    """Unfreeze the last `last_blocks` blocks and what follows (0 or no blocks found: all);
    freeze the rest. Returns the number of trainable parameters."""
    found = blocks_of(backbone)
    if last_blocks <= 0 or found is None or last_blocks >= len(found[1]):
        trainable = {name for name, _ in backbone.named_parameters()}
    else:
        name, blocks = found
        first = len(blocks) - last_blocks
        prefix = f"{name}.{first}."
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

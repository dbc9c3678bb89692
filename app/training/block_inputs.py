"""Phase 2 val scoring without the frozen part of the backbone.

While the last blocks train, what enters the first trained block for an un-augmented image never
changes: everything before it is frozen and in eval mode. So when phase 2 starts, the centre crops
of the train gallery and of the val queries go through the frozen part once, and every epoch's
scoring runs only the trained blocks and the head on those stored inputs: no image decoding, and
on EfficientNet-Lite0 with its last 5 blocks about a third of the backbone's work.

The inputs are kept float16 in an unnamed temporary file in the run's folder (gone when the run
ends, even when it is killed) and read back a batch at a time, so memory does not grow with the
catalogue. Per image: C x H x W x 2 bytes; EfficientNet-Lite0 at 224 px, last 5 blocks:
112 x 14 x 14 = 43.9 KB (2.2 GB of disk for 50,000 photos), last 3 blocks: 18.8 KB.

A stored batch enters through a forward pre-hook on the first trained block, which swaps the
block's input while the backbone runs on a one-image dummy (the frozen part costs one image per
batch). A backbone where this does not hold (the block is never reached, or a trained parameter
feeds it) is scored in full, as before.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.training.augment import Normalise, centre_crop
from app.training.data import ImageSet, Reader
from app.training.epochs import EVAL_BATCH, head_embeddings
from app.training.runtime import Precision
from app.training.unfreeze import first_trained

logger = logging.getLogger("app.training")

REPLAY_BATCH = 64  # stored inputs per pass of the trained blocks
STORED = np.float16  # how the inputs are kept (float32 in tests that compare to the last bit)


class _Reached(Exception):
    """Raised by the capture hook: the input of the first trained block, the rest not run."""

    def __init__(self, value: torch.Tensor) -> None:
        super().__init__("first trained block reached")
        self.value = value


def _tensor_slot(args: tuple, kwargs: dict) -> int | str | None:
    """Where a block's input is: the first tensor among its arguments."""
    for position, value in enumerate(args):
        if isinstance(value, torch.Tensor):
            return position
    return next((k for k, v in kwargs.items() if isinstance(v, torch.Tensor)), None)


def _input_of(backbone: Any, block: torch.nn.Module, pixels: torch.Tensor) -> torch.Tensor | None:
    """What `block` receives when `backbone` runs on `pixels` (None: it is never reached)."""

    def stop(_module, args, kwargs):
        slot = _tensor_slot(args, kwargs)
        if slot is not None:
            raise _Reached(args[slot] if isinstance(slot, int) else kwargs[slot])

    handle = block.register_forward_pre_hook(stop, with_kwargs=True)
    try:
        backbone(pixels)
    except _Reached as reached:
        return reached.value
    finally:
        handle.remove()
    return None


class BlockInputs:
    """Stored inputs of the first trained block for named image sets ("train", "val")."""

    def __init__(self, block: torch.nn.Module, folder: Path, precision: Precision, crop: int):
        self._block = block
        self._precision = precision
        self._dtype = STORED
        self._dummy = torch.zeros(1, 3, crop, crop, device=precision.device)
        self._dummy = self._dummy.contiguous(memory_format=torch.channels_last)
        folder.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=folder, prefix=".block-inputs-")  # noqa: SIM115 - closed by close()
        self._shape: tuple[int, ...] = ()
        self._channels_last = False
        self._rows = 0
        self._spans: dict[str, tuple[int, int]] = {}
        self._labels: dict[str, torch.Tensor] = {}
        self._swapped: torch.Tensor | None = None

    def add(self, name: str, data: ImageSet, backbone: Any, tools: tuple, bar: Any) -> None:
        """Run the frozen part once on the centre crops of `data` and store what it gives.
        `tools`: (reader, normalise)."""
        reader, norm = tools
        start, labels = self._rows, []
        order = list(torch.arange(len(data)).split(EVAL_BATCH))
        for images, kept in reader.batches(data, order):
            pixels = centre_crop(images.to(self._precision.device), norm)
            with torch.inference_mode(), self._precision.autocast():
                value = _input_of(backbone, self._block, pixels)
            assert value is not None  # checked by `usable`
            self._shape = tuple(value.shape[1:])
            self._channels_last = value.ndim == 4 and value.is_contiguous(
                memory_format=torch.channels_last
            )
            rows = value.detach().float().cpu().contiguous().numpy().astype(self._dtype)
            self._file.write(memoryview(rows).cast("B"))
            self._rows += rows.shape[0]
            labels.append(kept)
            bar.update(len(images))
        self._file.flush()
        self._spans[name] = (start, self._rows - start)
        self._labels[name] = torch.cat(labels) if labels else data.labels[:0]

    def usable(self, backbone: Any) -> bool:
        """True when the block is reached and no trained parameter feeds it."""
        with torch.enable_grad():
            value = _input_of(backbone, self._block, self._dummy)
        if value is None:
            logger.info("val scoring runs the whole backbone: its blocks are not reached")
            return False
        if value.requires_grad:
            logger.info("val scoring runs the whole backbone: trained layers feed its blocks")
            return False
        return True

    def labels(self, name: str) -> torch.Tensor:
        """The labels of the stored rows of `name` (files that did not decode left out)."""
        return self._labels[name]

    @torch.inference_mode()
    def embeddings(self, net: Any, name: str) -> torch.Tensor:
        """Unit-length embeddings of the stored `name` rows (eval mode), a batch at a time."""
        net.eval()
        start, count = self._spans[name]
        out = []
        handle = self._block.register_forward_pre_hook(self._swap, with_kwargs=True)
        try:
            for first in range(start, start + count, REPLAY_BATCH):
                self._swapped = self._read(first, min(REPLAY_BATCH, start + count - first))
                with self._precision.autocast():
                    out.append(head_embeddings(net, net.backbone(self._dummy).float()))
        finally:
            handle.remove()
            self._swapped = None
        return torch.cat(out) if out else torch.zeros(0, net.head.out_features)

    def close(self) -> None:
        self._file.close()

    def _swap(self, _module, args, kwargs):
        slot = _tensor_slot(args, kwargs)
        if isinstance(slot, int):
            args = (*args[:slot], self._swapped, *args[slot + 1 :])
        elif slot is not None:
            kwargs = {**kwargs, slot: self._swapped}
        return args, kwargs

    def _read(self, first: int, rows: int) -> torch.Tensor:
        buffer = np.empty((rows, *self._shape), dtype=self._dtype)
        row_bytes = buffer.nbytes // max(1, rows)
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):  # pread may return less than asked
            done += os.preadv(self._file.fileno(), [view[done:]], first * row_bytes + done)
        value = torch.from_numpy(buffer).to(self._precision.device, torch.float32)
        if self._channels_last:
            value = value.contiguous(memory_format=torch.channels_last)
        return value


def capture_block_inputs(
    net: Any,
    last_blocks: int,
    sets: dict[str, ImageSet],
    tools: tuple[Reader, Normalise, Precision],
    *,
    folder: Path,
    progress: Callable[..., Any],
) -> BlockInputs | None:
    """The stored block inputs of `sets`, or None when val scoring must run the whole backbone
    (all blocks train, the hook does not apply, or the folder cannot hold them)."""
    first = first_trained(net.backbone, last_blocks)
    if first is None:
        return None
    reader, norm, precision = tools
    stored = BlockInputs(first[1], folder, precision, norm.crop)
    net.eval()
    if not stored.usable(net.backbone):
        stored.close()
        return None
    bar = progress(total=sum(len(s) for s in sets.values()), desc="frozen blocks, once")
    try:
        for name, data in sets.items():
            stored.add(name, data, net.backbone, (reader, norm), bar)
    except OSError as exc:
        logger.warning("val scoring runs the whole backbone: cannot store block inputs: %s", exc)
        stored.close()
        return None
    finally:
        bar.close()
    return stored

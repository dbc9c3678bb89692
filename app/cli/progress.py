"""tqdm progress bars for the command line (images/s shown by tqdm's rate)."""

from __future__ import annotations

from functools import partial
from typing import TextIO

from app.services.progress import ProgressBar, ProgressFactory, no_progress


def tqdm_progress(stream: TextIO) -> ProgressFactory:
    """Bars on `stream`; nothing at all for work with nothing to do (no `embedding: 0img`)."""
    return partial(_bar, stream)


def _bar(stream: TextIO, *, total: int, desc: str) -> ProgressBar:
    if total <= 0:
        return no_progress(total=total, desc=desc)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="img", file=stream, dynamic_ncols=True, smoothing=0.1)

"""tqdm progress bars for the command line (images/s shown by tqdm's rate)."""

from __future__ import annotations

from functools import partial
from typing import TextIO

from app.services.progress import ProgressFactory


def tqdm_progress(stream: TextIO) -> ProgressFactory:
    from tqdm import tqdm

    return partial(tqdm, unit="img", file=stream, dynamic_ncols=True, smoothing=0.1)

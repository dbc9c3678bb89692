"""Port: a metric learner that fine-tunes an embedding network on labelled images."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from app.domain.training import EpochRecord, TrainingJob, TrainingOutcome


class MetricLearner(Protocol):
    """Contract.

    - `fit(job)` trains on `job.train`, selects on val Recall@1 of `job.val` against the train
      images, and writes `best_model.pt` and `latest_model.pt` into `job.out_dir` (loadable as
      EMBEDDING_MODEL). Unless `job.config.fresh`, it resumes from `latest_model.pt` there:
      epochs continue, they do not restart; a checkpoint of another backbone, size or class list
      is a ModelMismatch.
    - `on_epoch(history)` is called after the baseline (epoch 0) and after every epoch with the
      whole history so far (including epochs of earlier, resumed runs).
    """

    def fit(
        self, job: TrainingJob, on_epoch: Callable[[list[EpochRecord]], None] | None = None
    ) -> TrainingOutcome: ...

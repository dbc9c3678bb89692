"""Use case: fine-tune the embedding on the saved split (train; model selection on val).

Checkpoints land in MODELS_DIR/embedder (or --out); a later run resumes from latest_model.pt.
After every epoch, history.json and training_curve.png (loss and val Recall@1) are rewritten.
The result is used with EMBEDDING_MODEL=<out>/best_model.pt (then `rebuild`).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from pathlib import Path

from app.domain.charts import Series
from app.domain.training import EpochRecord, FinetuneConfig, TrainingJob, TrainingOutcome
from app.interfaces.charts import Charts
from app.interfaces.documents import Documents
from app.interfaces.training import MetricLearner
from app.services.splitting import SplitService

EMBEDDER_DIR = "embedder"
HISTORY_FILE = "history.json"
CURVE_FILE = "training_curve.png"


@dataclass(eq=False)
class FinetuneService:
    learner: MetricLearner
    splits: SplitService
    models_dir: Path
    charts: Charts
    documents: Documents  # history.json
    _: KW_ONLY
    default_backbone: str = "efficientnet-lite0"
    default_device: str = "auto"

    def run(self, config: FinetuneConfig, out_dir: Path | None = None) -> TrainingOutcome:
        split = self.splits.load()
        config = replace(
            config,
            backbone=config.backbone or self.default_backbone,
            device=str(config.device or self.default_device),
        )
        out = Path(out_dir or Path(self.models_dir) / EMBEDDER_DIR)
        index = split.class_to_idx
        job = TrainingJob(
            classes=list(split.classes),
            train=[(path, index[name]) for path, name in split.labelled("train")],
            val=[(path, index[name]) for path, name in split.labelled("val")],
            out_dir=out,
            config=config,
        )
        scale = "auto" if config.scale is None else f"{config.scale:g}"
        title = f"{config.backbone} -> {config.embedding_dim}-d, ArcFace s={scale}"
        unfrozen = config.frozen_epochs + 0.5 if config.unfrozen_epochs else None

        def record(history: list[EpochRecord]) -> None:
            self.documents.write(out / HISTORY_FILE, [r.as_dict() for r in history], indent=1)
            _draw(self.charts, out, history, title, unfrozen)

        outcome = self.learner.fit(job, on_epoch=record)
        outcome.files = {
            "history": str(out / HISTORY_FILE),
            "training curve": str(out / CURVE_FILE),
        }
        return outcome


def _draw(
    charts: Charts, out: Path, history: list[EpochRecord], title: str, unfrozen: float | None
) -> None:
    charts.curves_png(
        out / CURVE_FILE,
        [record.epoch for record in history],
        [
            Series("train loss (ArcFace)", [record.loss for record in history]),
            Series("val Recall@1", [record.val_recall_at_1 for record in history], (0.0, 1.0)),
            Series("val mAP", [record.val_map for record in history], (0.0, 1.0)),
        ],
        f"{title}; dashed: backbone unfrozen" if unfrozen is not None else title,
        marker=unfrozen,
    )

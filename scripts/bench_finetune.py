"""Benchmark fine-tuning with EfficientNet-Lite0 on the CPU: pretrained backbone vs fine-tuned.

For each data set: test Recall@1/@5 and mAP against the train gallery, first with the packaged
pretrained model (1280-d), then after `finetune` (ArcFace on the train split): best_model.pt
(selected on val, `--select`) and latest_model.pt (the last epoch), with the epochs and minutes the
fine-tuning took.

- eth80: ../shared/data/eth80-groups, split by object with `split` (70/15/15, seed 0).
- clothing: ../shared/data/clothing-small, its own train/validation/test folders
  (train limited to --limit photos per class to keep the run short; no groups there).

    python scripts/bench_finetune.py [--datasets eth80 clothing] [--frozen-epochs 3]
        [--epochs 2] [--limit 60] [--image-size 224] [--scale 30] [--select recall@1] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import load_settings
from app.container import build_container
from app.domain.training import FinetuneConfig
from app.services.splitting import CLASS_FILE, MANIFEST_FILE, SplitOptions, split_file

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _clothing_split(source: Path, data: Path, splits_dir: Path, limit: int | None) -> None:
    """The data set's own train/validation/test folders as a saved split over a tree of
    symlinks `data/<class>/<split>-<file>` (the split layout puts the class first)."""
    files: dict[str, list[str]] = {}
    for name, folder in (("train", "train"), ("val", "validation"), ("test", "test")):
        files[name] = []
        for cls in sorted(p for p in (source / folder).iterdir() if p.is_dir()):
            photos = sorted(cls.glob("*.jpg"))[: limit if name == "train" else None]
            for photo in photos:
                link = data / cls.name / f"{name}-{photo.name}"
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(photo)
                files[name].append(f"{cls.name}/{link.name}")
    classes = sorted(p.name for p in (source / "train").iterdir() if p.is_dir())
    splits_dir.mkdir(parents=True, exist_ok=True)
    for name, rels in files.items():
        (splits_dir / split_file(name)).write_text(json.dumps(rels))
    (splits_dir / CLASS_FILE).write_text(json.dumps({c: i for i, c in enumerate(classes)}))
    (splits_dir / MANIFEST_FILE).write_text(json.dumps({"data_dir": str(data), "seed": 0}))


def _evaluate(settings, out: Path) -> dict:
    report = build_container(settings).evaluation_service().evaluate_split("test", out)
    return {
        "recall@1": report.recall[1],
        "recall@5": report.recall[5],
        "map": report.mean_average_precision,
        "n_gallery": report.n_gallery,
        "n_queries": report.n_queries,
        "seconds": report.seconds,
    }


def bench(name: str, settings, config: FinetuneConfig, work: Path) -> dict:
    """Pretrained, then fine-tuned: best_model.pt (selected on val) and latest_model.pt."""
    started = time.perf_counter()
    rows = {"pretrained": _evaluate(settings, work / f"{name}-eval-pretrained")}
    print(f"[{name}] pretrained:            {_line(rows['pretrained'])}", flush=True)
    tuned_start = time.perf_counter()
    outcome = build_container(settings).finetune_service().run(config, work / f"{name}-model")
    minutes = (time.perf_counter() - tuned_start) / 60
    for label, path in (("best", outcome.best_path), ("last", outcome.latest_path)):
        tuned = settings.model_copy(update={"embedding_model": path})
        rows[label] = _evaluate(tuned, work / f"{name}-eval-{label}")
        print(f"[{name}] fine-tuned ({label} epoch): {_line(rows[label])}", flush=True)
    unfrozen = outcome.last_epoch - config.frozen_epochs
    return {
        "dataset": name,
        **rows,
        "epochs": f"{config.frozen_epochs} frozen + {unfrozen} unfrozen",
        "best_epoch": f"{outcome.best_epoch} (by val {outcome.select_metric})",
        "val_recall@1": [round(r.val_recall_at_1, 3) for r in outcome.history],
        "val_map": [round(r.val_map or 0.0, 3) for r in outcome.history],
        "train_minutes": round(minutes, 1),
        "total_minutes": round((time.perf_counter() - started) / 60, 1),
        "precision": outcome.precision,
    }


def _line(m: dict) -> str:
    return (
        f"R@1 {m['recall@1']:.3f}  R@5 {m['recall@5']:.3f}  mAP {m['map']:.3f}  "
        f"({m['n_queries']} queries, {m['n_gallery']} gallery, {m['seconds']:.0f}s)"
    )


def _settings(work: Path, name: str, products: Path):
    return load_settings(
        _env_file=None, products_dir=products, index_dir=work / f"{name}-index",
        database_url=f"sqlite:///{work / (name + '.db')}", splits_dir=work / f"{name}-splits",
        models_dir=work / f"{name}-models", embedding_model="efficientnet-lite0",
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["eth80", "clothing"])
    parser.add_argument("--frozen-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="unfrozen epochs")
    parser.add_argument("--limit", type=int, default=60, help="clothing train photos per class")
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--scale", type=float, default=30.0)
    parser.add_argument("--select", choices=["recall@1", "map"], default="recall@1")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-finetune-"))
    config = FinetuneConfig(
        backbone="efficientnet-lite0", image_size=args.image_size, scale=args.scale,
        frozen_epochs=args.frozen_epochs, unfrozen_epochs=args.epochs, patience=0, fresh=True,
        select_metric=args.select,
    )  # fmt: skip
    results = []
    for name in args.datasets:
        if name == "eth80":
            data = SHARED / "eth80-groups"
            settings = _settings(work, name, data)
            build_container(settings).split_service().run(data, SplitOptions(seed=0))
        else:
            data = work / "clothing-data"
            settings = _settings(work, name, data)
            _clothing_split(SHARED / "clothing-small", data, settings.splits_dir, args.limit)
        results.append(bench(name, settings, config, work))
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

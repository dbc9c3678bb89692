"""Benchmark fine-tuning on the CPU: frozen (packaged) model vs `finetune` with its defaults.

For each data set, in a process of its own (so peak memory is that data set's): `split` (the set's
own train/val/test folders, or by object for eth80), `evaluate --split test` with the frozen
EfficientNet-Lite0 (or --backbone; test Recall@1/@5, mAP, the prototype and kNN rules),
`finetune` with the defaults (plus --max-minutes), and the same evaluation of best_model.pt; the
minutes the fine-tuning took and the process's peak resident memory (also per phase). First, the
CPU speed of the torch model measured in the same run (forward, and a training step with the
last blocks unfrozen).

- cub100: ../shared/data/cub100-birds (100 look-alike bird species, its own train/val/test);
- clothing: ../shared/data/clothing-small (10 classes, its own train/validation/test);
- eth80: ../shared/data/eth80-groups (8 classes, split by object with `split`, 70/15/15).

    python scripts/bench_finetune.py [--datasets cub100 clothing eth80] [--max-minutes 30]
        [--backbone efficientnet-lite0|efficientnet-lite1|efficientnet-lite2] [--out DIR] [--json]
        [--set KEY=VALUE ...] [--no-frozen]
    python scripts/bench_finetune.py --steps [--backbone ...]

`--set` changes one `finetune` setting from its default (a FinetuneConfig field, e.g.
`--set classes_per_batch=16 --set image_size=192`), to compare choices at the same time budget;
`--no-frozen` skips the frozen evaluation (the same for every choice). `--steps` prints only the
training-step speed (forward + backward, images per second) of P x K = 8 x 4 and 16 x 4, of the
backbone's side and 192 px, of the last 5 and 3 blocks, measured in turn round by round (medians),
so their ratios hold on a shared CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.infrastructure.embedding.efficientnet_lite import MODEL_ID, MODEL_IDS

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = {"cub100": "cub100-birds", "clothing": "clothing-small", "eth80": "eth80-groups"}


def torch_speed(backbone: str, seconds: float = 8.0) -> dict[str, float]:
    """Images per second of the backbone at its own side, batch 32: inference, and a training
    step (forward + backward) with the finetune default's last blocks unfrozen."""
    import torch

    from app.domain.training import FinetuneConfig
    from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
    from app.training.unfreeze import freeze_modes, set_trainable

    model = EfficientNetLiteEmbedding("cpu", 0, backbone)
    net, side = model.torch_module(), model.pixel_spec().crop
    batch = torch.randn(32, 3, side, side).contiguous(memory_format=torch.channels_last)

    def rate(step) -> float:
        step()  # warm-up
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            step()
            done += batch.shape[0]
        return done / (time.perf_counter() - started)

    def infer() -> None:
        with torch.inference_mode():
            net.eval()(batch)

    def train() -> None:
        net.train()
        freeze_modes(net)
        net(batch).sum().backward()

    forward = rate(infer)
    set_trainable(net, FinetuneConfig().unfreeze_blocks)
    return {"forward_img_s": round(forward, 1), "train_step_img_s": round(rate(train), 1)}


STEP_SETUPS = ((32, 0, 5), (64, 0, 5), (32, 192, 5), (32, 0, 3))  # batch, side (0: own), blocks


def step_speeds(backbone: str, rounds: int = 5, seconds: float = 4.0) -> list[dict]:
    """Training-step images per second of each STEP_SETUPS entry, measured in turn each round."""
    import statistics

    import torch

    from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
    from app.training.unfreeze import freeze_modes, set_trainable

    model = EfficientNetLiteEmbedding("cpu", 0, backbone)
    net, own = model.torch_module(), model.pixel_spec().crop
    rates: dict[tuple, list[float]] = {setup: [] for setup in STEP_SETUPS}
    for _ in range(rounds):
        for batch_size, side, blocks in STEP_SETUPS:
            set_trainable(net, blocks)
            batch = torch.randn(batch_size, 3, side or own, side or own)
            batch = batch.contiguous(memory_format=torch.channels_last)
            net.train()
            freeze_modes(net)
            net(batch).sum().backward()  # warm-up
            done, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                net.zero_grad(set_to_none=True)
                net(batch).sum().backward()
                done += batch_size
            rates[(batch_size, side, blocks)].append(done / (time.perf_counter() - started))
    return [
        {"batch": b, "side": s or own, "blocks": k, "img_s": round(statistics.median(r), 1)}
        for (b, s, k), r in rates.items()
    ]


class PhasePeaks:
    """The process's peak resident memory in each named phase (sampled every 50 ms)."""

    def __init__(self) -> None:
        self.phase, self.peaks = "start", {}
        threading.Thread(target=self._sample, daemon=True).start()

    def enter(self, phase: str) -> None:
        self.phase = phase

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while True:
            with open("/proc/self/statm", encoding="ascii") as handle:
                rss = int(handle.read().split()[1]) * page / 2**30
            self.peaks[self.phase] = round(max(self.peaks.get(self.phase, 0.0), rss), 2)
            time.sleep(0.05)


def one(name: str, work: Path, args: argparse.Namespace) -> dict:
    """Everything for one data set (run in a child process)."""
    from app.config import load_settings
    from app.container import build_container
    from app.domain.training import FinetuneConfig
    from app.services.splitting import SplitOptions

    data = SHARED / DATASETS[name]
    settings = load_settings(
        _env_file=None, products_dir=data, index_dir=work / "index",
        database_url=f"sqlite:///{work / 'app.db'}", splits_dir=work / "splits",
        models_dir=work / "models", embedding_model=args.backbone,
    )  # fmt: skip
    peaks = PhasePeaks()
    report = build_container(settings).split_service().run(data, SplitOptions(seed=0, force=True))
    print(f"[{name}] {report.layout}", file=sys.stderr, flush=True)
    frozen = None
    if not args.no_frozen:
        peaks.enter("frozen evaluation")
        frozen = _evaluate(settings, work / "eval-frozen")
        print(f"[{name}] frozen:     {_line(frozen)}", file=sys.stderr, flush=True)
    peaks.enter("finetune")
    started = time.perf_counter()
    changes = settings_of(args.set)
    config = FinetuneConfig(max_minutes=args.max_minutes, fresh=True, **changes)
    outcome = build_container(settings).finetune_service().run(config)
    minutes = (time.perf_counter() - started) / 60
    peaks.enter("tuned evaluation")
    tuned = _evaluate(settings.model_copy(update={"embedding_model": outcome.best_path}),
                      work / "eval-tuned")  # fmt: skip
    print(f"[{name}] fine-tuned: {_line(tuned)}", file=sys.stderr, flush=True)
    return {
        "dataset": name,
        "backbone": args.backbone,
        "changes": changes,
        "classes": len(report.counts["train"]),
        "images": {s: sum(c.values()) for s, c in report.counts.items()},
        "frozen": frozen,
        "fine-tuned": tuned,
        "finetune_minutes": round(minutes, 1),
        "epochs": f"{outcome.last_epoch} (best {outcome.best_epoch}, val {outcome.select_metric})",
        "stopped_by_budget": outcome.stopped_by_budget,
        "arcface": {"scale": round(outcome.scale, 1), "margin": round(outcome.margin, 3)},
        "val_map": [round(r.val_map or 0.0, 3) for r in outcome.history],
        "val_recall@1": [round(r.val_recall_at_1, 3) for r in outcome.history],
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "peak_rss_gb_by_phase": dict(peaks.peaks),
    }


def settings_of(pairs: list[str]) -> dict:
    """`--set KEY=VALUE` pairs as FinetuneConfig keyword arguments (values read as JSON)."""
    changes = {}
    for pair in pairs:
        key, _, text = pair.partition("=")
        try:
            changes[key.strip()] = json.loads(text)
        except json.JSONDecodeError:
            changes[key.strip()] = text
    return changes


def _evaluate(settings, out: Path) -> dict:
    from app.container import build_container

    report = build_container(settings).evaluation_service().evaluate_split("test", out)
    rules = {rule.name: round(rule.accuracy, 3) for rule in report.rules}
    return {
        "recall@1": round(report.recall[1], 3),
        "recall@5": round(report.recall[5], 3),
        "map": round(report.mean_average_precision, 3),
        "prototype": rules.get("prototype"),
        "knn": rules.get("knn"),
        "centres": rules.get("centres"),
        "n_queries": report.n_queries,
        "n_gallery": report.n_gallery,
    }


def _line(m: dict) -> str:
    return (
        f"R@1 {m['recall@1']:.3f}  R@5 {m['recall@5']:.3f}  mAP {m['map']:.3f}  "
        f"prototype {m['prototype']}  kNN {m['knn']}  centres {m['centres']}"
        f"  ({m['n_queries']} queries)"
    )


def table(backbone: str, speed: dict, rows: list[dict]) -> str:
    lines = [
        f"torch CPU speed ({backbone}, batch 32): forward {speed['forward_img_s']} img/s,"
        f" training step (default unfrozen blocks) {speed['train_step_img_s']} img/s",
        "| data | model | test R@1 | R@5 | mAP | prototype | kNN | centres | minutes | peak memory"
        " |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        f, t = row["frozen"], row["fine-tuned"]
        data = f"{row['dataset']} ({row['classes']} classes)"
        if f is not None:
            lines.append(f"| {data} | frozen | {f['recall@1']:.3f} | {f['recall@5']:.3f} | "
                         f"{f['map']:.3f} | {f['prototype']} | {f['knn']} | | | |")  # fmt: skip
        changed = "".join(f", {k}={v}" for k, v in row["changes"].items()) or ", defaults"
        lines.append(f"| {'' if f is not None else data} | fine-tuned{changed}, {row['epochs']}"
                     f" | {t['recall@1']:.3f} | {t['recall@5']:.3f}"
                     f" | {t['map']:.3f} | {t['prototype']} | {t['knn']} | {t['centres']} | "
                     f"{row['finetune_minutes']} | {row['peak_rss_gb']} GB |")  # fmt: skip
    for row in rows:
        phases = ", ".join(f"{k} {v} GB" for k, v in row["peak_rss_gb_by_phase"].items())
        lines.append(f"peak memory by phase, {row['dataset']}: {phases}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--max-minutes", type=float, default=30.0, help="finetune budget (30)")
    parser.add_argument("--backbone", default=MODEL_ID, choices=MODEL_IDS,
                        help=f"the model, frozen and fine-tuned ({MODEL_ID})")  # fmt: skip
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a finetune setting other than its default (repeatable)",
    )
    parser.add_argument("--no-frozen", action="store_true", help="skip the frozen evaluation")
    parser.add_argument("--steps", action="store_true", help="only the training-step speeds")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process: one data set
    args = parser.parse_args()
    if args.steps:
        for row in step_speeds(args.backbone):
            print(f"batch {row['batch']}, {row['side']} px, last {row['blocks']} blocks: "
                  f"{row['img_s']} img/s")  # fmt: skip
        return 0
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-finetune-"))
    if args.one:
        print(json.dumps(one(args.one, work / args.one, args)))
        return 0
    speed = torch_speed(args.backbone)
    print(f"torch CPU speed: {speed}", file=sys.stderr, flush=True)
    rows = []
    for name in args.datasets:
        cmd = [sys.executable, __file__, "--one", name, "--out", str(work),
               "--max-minutes", str(args.max_minutes), "--backbone", args.backbone,
               *[f"--set={pair}" for pair in args.set],
               *(["--no-frozen"] if args.no_frozen else [])]  # fmt: skip
        done = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(table(args.backbone, speed, rows))
    if args.json:
        print(json.dumps({"torch_speed": speed, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

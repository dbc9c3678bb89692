"""Measure INFERENCE_PRECISION=int8 before offering it: ONNX Runtime static quantisation of
EfficientNet-Lite0, calibrated on the user's own photos, against the fp32 export, on this machine.

Prints, in one run: model-only img/s at batch 32 and batch 1 (fp32 vs int8, same pixels, same
session options as the application) and the Recall@1 each gives on clothing-small (gallery: the
train split, `--per-class` photos per class; queries: the test split), decoded once and embedded
by both. The issue asks for int8 only if it is measured faster here.

    python scripts/bench_int8.py [--per-class 100] [--calibration 64] [--rounds 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.scoring import l2_normalize  # noqa: E402
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding  # noqa: E402
from app.infrastructure.embedding.onnx_model import (  # noqa: E402
    SessionSettings,
    make_session,
    with_runtime,
)
from app.infrastructure.preprocessing.options import PreprocessOptions  # noqa: E402
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clothing-small"


def fp32_export(models: Path) -> Path:
    """The application's own verified fp32 export (made once into `models/onnx`)."""
    model = with_runtime(EfficientNetLiteEmbedding(device="cpu"), "onnx", "cpu", models / "onnx")
    model.embed_pixels(np.zeros((1, 3, 224, 224), np.float32))
    (path,) = (models / "onnx").glob("*.onnx")
    return path


def quantise(fp32: Path, calibration: list[np.ndarray], out: Path) -> Path:
    """Static QDQ quantisation (int8 weights per channel, uint8 activations) calibrated on
    `calibration` batches of pixels."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Photos(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {"pixels": batch}

    prepared = out.with_name("prepared.onnx")
    quant_pre_process(str(fp32), str(prepared))
    quantize_static(
        str(prepared), str(out), Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
    )  # fmt: skip
    return out


class Pixels:
    """Photos -> model pixels the way the application prepares them (pad, resize, crop)."""

    def __init__(self) -> None:
        self._prep = PadResizePreprocessor(PreprocessOptions())
        self._model = EfficientNetLiteEmbedding(device="cpu")

    def of(self, paths: list[Path]) -> np.ndarray:
        images = [self._prep.prepare(p) for p in paths]
        return np.stack([self._model.to_pixels(im) for im in images])


def rate(session, pixels: np.ndarray, rounds: int) -> float:
    session.run(None, {"pixels": pixels})  # warm up
    start = time.perf_counter()
    for _ in range(rounds):
        session.run(None, {"pixels": pixels})
    return rounds * len(pixels) / (time.perf_counter() - start)


def embed_both(sessions: dict, pixels: Pixels, paths: list[Path]) -> dict[str, np.ndarray]:
    out: dict[str, list[np.ndarray]] = {name: [] for name in sessions}
    for start in range(0, len(paths), 32):
        batch = pixels.of(paths[start : start + 32])
        for name, session in sessions.items():
            out[name].append(l2_normalize(session.run(None, {"pixels": batch})[0]))
    return {name: np.concatenate(rows) for name, rows in out.items()}


def recall_at_1(gallery: np.ndarray, g_labels: list[str], queries: np.ndarray, q_labels) -> float:
    """The share of queries whose nearest gallery photo is of their class."""
    nearest = np.argmax(queries @ gallery.T, axis=1)
    hits = [g_labels[i] == label for i, label in zip(nearest, q_labels, strict=True)]
    return float(np.mean(hits))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=100, help="gallery photos per class")
    parser.add_argument("--calibration", type=int, default=64, help="calibration photos")
    parser.add_argument("--rounds", type=int, default=6, help="timed batches of 32")
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} not found (see ../shared/data/README.md)")
    work = Path(tempfile.mkdtemp(prefix="bench-int8-"))
    gallery = [p for c in sorted((DATA / "train").iterdir())
               for p in sorted(c.glob("*.jpg"))[: args.per_class]]  # fmt: skip
    queries = sorted((DATA / "test").glob("*/*.jpg"))
    pixels = Pixels()
    # calibration: the user's own photos (here: a spread of the gallery), never the queries
    spread = gallery[:: max(1, len(gallery) // args.calibration)][: args.calibration]
    calibration = [pixels.of(spread[i : i + 8]) for i in range(0, len(spread), 8)]
    fp32 = fp32_export(work / "models")
    start = time.perf_counter()
    int8 = quantise(fp32, calibration, work / "int8.onnx")
    sizes = fp32.stat().st_size / 1e6, int8.stat().st_size / 1e6
    print(f"machine: {os.cpu_count()} CPUs (shared: other jobs may run); calibrated on "
          f"{len(spread)} photos in {time.perf_counter() - start:.1f} s; "
          f"fp32 {sizes[0]:.1f} MB, int8 {sizes[1]:.1f} MB")  # fmt: skip
    settings = SessionSettings(work / "models" / "onnx")
    sessions = {name: make_session(path.read_bytes(), settings)
                for name, path in (("fp32", fp32), ("int8", int8))}  # fmt: skip
    batch = pixels.of(queries[:32])
    for size, rounds in ((32, args.rounds), (1, args.rounds * 16)):
        rates = {name: rate(s, batch[:size], rounds) for name, s in sessions.items()}
        fp, i8 = rates["fp32"], rates["int8"]
        print(f"model only, batch {size:2d}   fp32 {fp:6.1f} img/s   int8 {i8:6.1f} img/s   "
              f"({i8 / fp:.2f}x)")  # fmt: skip
    g = embed_both(sessions, pixels, gallery)
    q = embed_both(sessions, pixels, queries)
    g_labels = [p.parent.name for p in gallery]
    q_labels = [p.parent.name for p in queries]
    r1 = {name: recall_at_1(g[name], g_labels, q[name], q_labels) for name in sessions}
    cosine = float(np.sum(g["fp32"] * g["int8"], axis=1).min())
    print(f"Recall@1 clothing-small ({len(gallery)} gallery, {len(queries)} queries)   "
          f"fp32 {r1['fp32']:.3f}   int8 {r1['int8']:.3f}   "
          f"(worst fp32/int8 cosine {cosine:.4f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark inference end to end: every figure of the fast-inference issue, side by side, one run.

Prints, on this machine and in this run:
  1. model only (pre-decoded pixels, batch 32): EfficientNet-Lite0 in eager torch vs ONNX Runtime;
  2. `rebuild --full` end to end (img/s) on clothing-small's train split and on a phone-size set
     (clothing photos upscaled to 3000x4000 JPEGs in a temp folder), the CPU a clothing photo
     costs (model + decode and framing) with the end-to-end ceiling it implies on this machine,
     and the rebuild's pipeline run on photos decoded beforehand (decoding's share of the gap);
  3. the no-change `rebuild` (and `stats`) wall time next to `--help`, on a 10,000-photo catalogue
     (hard links to every shared data set under distinct names, in a temp folder, indexed first);
  4. query latency p50/p99 (decode + embed + search) on that ~3k gallery;
  5. API /predict req/s and p50/p99 at 1 and 4 clients: before (torch, one model call per
     request) and now (ONNX Runtime + micro-batching).
Ratios measured in one run hold on a shared machine; absolute figures move with the load.

    python scripts/bench_inference.py [--per-class N] [--phone 100] [--seconds 10] [--catalogue N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchdata import link_class_folders, rate_and_latency, run_clients  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clothing-small"
RATE = re.compile(r"rebuild done in ([\d.]+)s: (\d+) files, (\d+) embedded, ([\d.]+) img/s")


def _env(work: Path, products: Path, runtime: str = "auto") -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PRODUCTS_DIR": str(products),
        "INDEX_DIR": str(work / "index"),
        "DATABASE_URL": f"sqlite:///{work / 'app.db'}",
        "EXAMPLES_DIR": str(work / "examples"),
        "MODELS_DIR": str(work.parent / "models"),  # one ONNX export for every run
        "EMBEDDING_MODEL": "efficientnet-lite0",
        "INFERENCE_RUNTIME": runtime,
        "DEVICE": "cpu",
        "CACHE_SIZE": "0",
        "EMBEDDING_CACHE_SIZE": "0",
        "HF_HUB_OFFLINE": "1",
    }


def _cli(env: dict[str, str], *argv: str) -> tuple[float, str]:
    start = time.perf_counter()
    ran = subprocess.run(
        [sys.executable, "-m", "app.cli.main", *argv],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if ran.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(argv)} failed: {ran.stderr[-800:]}")
    return time.perf_counter() - start, ran.stdout + ran.stderr


def model_only(photos: list[Path], rounds: int) -> dict[str, float]:
    from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding

    torch_model = EfficientNetLiteEmbedding(device="cpu")
    onnx_model = _onnx_model()
    pixels = np.stack([torch_model.to_pixels(Image.open(p).convert("RGB")) for p in photos[:32]])
    rates = {}
    for name, model in (("torch", torch_model), ("onnx", onnx_model)):
        model.embed_pixels(pixels)  # load, export once, warm up
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            model.embed_pixels(pixels)
        rates[name] = rounds * len(pixels) / (time.perf_counter() - start)
        rates[f"{name}_cpu_ms"] = (time.process_time() - cpu) * 1000 / (rounds * len(pixels))
    a, b = torch_model.embed_pixels(pixels), onnx_model.embed_pixels(pixels)
    rates["min_cos"] = float(np.sum(a * b, axis=1).min())
    return rates


def _onnx_model():
    """EfficientNet-Lite0 in ONNX Runtime, its export where the command line looks for it."""
    from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
    from app.infrastructure.embedding.onnx_model import with_runtime

    return with_runtime(EfficientNetLiteEmbedding(device="cpu"), "onnx", "cpu", _MODELS / "onnx")


def prepare_cpu_ms(photos: list[Path]) -> float:
    """CPU milliseconds per photo to decode, frame and normalise it (what a rebuild does besides
    the model), one thread, best of three passes."""
    from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
    from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor

    model, preprocessor = EfficientNetLiteEmbedding(device="cpu"), PadResizePreprocessor()
    best = float("inf")
    for _ in range(3):
        cpu = time.process_time()
        for photo in photos:
            model.to_pixels(preprocessor.prepare(photo))
        best = min(best, (time.process_time() - cpu) * 1000 / len(photos))
    return best


def predecoded_rate(photos: list[Path]) -> float:
    """img/s of the rebuild's pipeline (decode workers, batches of 32, ONNX Runtime) when every
    photo is decoded and framed already: what end to end would be if decoding cost nothing."""
    from app.domain.images import ImageInput
    from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor
    from app.services.pipeline import Embedder

    preprocessor = PadResizePreprocessor()
    framed = {str(photo): preprocessor.prepare(photo) for photo in photos}

    class Decoded:  # an ImagePreprocessor whose photos were decoded beforehand
        stamp = "decoded"

        def prepare(self, source: object, name: str | None = None) -> Image.Image:
            return framed[str(name)]

    embedder = Embedder(Decoded(), _onnx_model())
    list(embedder.embed_files(photos[:64], ImageInput.file))  # load the session, warm up
    start = time.perf_counter()
    count = sum(len(batch.items) for batch in embedder.embed_files(photos, ImageInput.file))
    return count / (time.perf_counter() - start)


def rebuild_rate(work: Path, products: Path, *argv: str) -> tuple[float, int]:
    env = _env(work, products)
    _, out = _cli(env, *(argv or ("rebuild", "--full")))
    match = RATE.search(out)
    if match is None:
        raise SystemExit(f"no rebuild summary in: {out[-500:]}")
    return float(match.group(4)), int(match.group(3))


def phone_set(folder: Path, count: int) -> Path:
    sources = sorted(DATA.glob("train/*/*.jpg"))[:: max(1, 3068 // max(count, 1))][:count]
    for i, path in enumerate(sources):
        target = folder / path.parent.name / f"{i:04d}.jpg"
        target.parent.mkdir(parents=True, exist_ok=True)
        big = Image.open(path).convert("RGB").resize((3000, 4000), Image.Resampling.BILINEAR)
        big.save(target, quality=90)
    return folder


def big_catalogue(folder: Path, count: int) -> int:
    """`count` photos of every shared data set under distinct names (`<set>-<class>/<name>`), as
    hard links (symlinks across file systems): nothing is copied into the repository."""
    photos = sorted(p for p in DATA.parent.rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    for photo in photos[:count]:
        rel = photo.relative_to(DATA.parent)
        target = folder / f"{rel.parts[0]}-{photo.parent.name}" / "-".join(rel.parts[1:])
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(photo, target)
        except OSError:
            target.symlink_to(photo)
    return min(count, len(photos))


def no_change(work: Path, products: Path, repeats: int = 3) -> dict[str, float]:
    """Median wall times of a rebuild that finds nothing new, `stats` and `--help`."""
    env = _env(work, products)
    return {
        name: statistics.median(_cli(env, *argv)[0] for _ in range(repeats))
        for name, argv in (("rebuild", ("rebuild",)), ("stats", ("stats",)), ("help", ("--help",)))
    }


def query_latency(work: Path, products: Path, queries: list[Path]) -> tuple[float, float]:
    from app.config import load_settings
    from app.container import build_container
    from app.domain.images import ImageInput

    env = _env(work, products)
    keys = ("products_dir", "index_dir", "database_url", "models_dir", "embedding_model")
    settings = load_settings(_env_file=None, cache_size=0, embedding_cache_size=0,
                             **{k: env[k.upper()] for k in keys})  # fmt: skip
    service = build_container(settings).search_service()
    service.search_images(ImageInput.files(queries[:2]), 5)  # load and warm up
    times = []
    for query in queries:
        start = time.perf_counter()
        service.search_images([ImageInput.file(query)], 5)
        times.append(time.perf_counter() - start)
    q = statistics.quantiles(times, n=100)
    return q[49] * 1000, q[98] * 1000


def api_figures(work: Path, products: Path, queries: list[Path], seconds: float) -> dict:
    from dependency_injector import providers
    from fastapi.testclient import TestClient

    from app.api.main import create_app
    from app.config import load_settings
    from app.container import build_container

    env = _env(work, products)
    keys = ("products_dir", "index_dir", "database_url", "models_dir", "embedding_model")
    results = {}
    for label, runtime in (("before: torch, one call per request", "torch"),
                           ("now: ONNX Runtime + micro-batching", "auto")):  # fmt: skip
        values = {k: env[k.upper()] for k in keys} | {"inference_runtime": runtime}
        settings = load_settings(_env_file=None, cache_size=0, embedding_cache_size=0, **values)
        container = build_container(settings)
        if runtime == "torch":  # the model without the batching wrapper
            plain = container.embedding_model().inner
            container.embedding_model.override(providers.Object(plain))
        with TestClient(create_app(container, warm_up=False)) as client:
            for query in queries[:4]:  # load and warm up before timing
                client.post("/predict", files={"file": ("q.jpg", query.read_bytes(), "image/jpeg")})
            for clients in (1, 4):
                results[(label, clients)] = _drive(client, queries, clients, seconds)
    return results


def _drive(client, queries: list[Path], clients: int, seconds: float) -> dict:
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    blobs = [q.read_bytes() for q in queries]

    def run(offset: int) -> None:
        i = offset
        while time.monotonic() < stop:
            start = time.perf_counter()
            reply = client.post(
                "/predict", files={"file": ("q.jpg", blobs[i % len(blobs)], "image/jpeg")}
            )
            latencies.append(time.perf_counter() - start)
            if reply.status_code != 200:
                raise SystemExit(f"/predict answered {reply.status_code}: {reply.text[:200]}")
            i += clients

    run_clients(clients, run)
    return rate_and_latency(latencies, seconds)


# set by main() to a fresh temp folder; its onnx/ holds the ONNX export every step and the command
# line share (MODELS_DIR/onnx), made once by the model-only step, before anything is timed
_MODELS = Path("models")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=None, help="gallery photos per class")
    parser.add_argument("--phone", type=int, default=100, help="phone-size photos to make")
    parser.add_argument("--rounds", type=int, default=8, help="model-only batches of 32")
    parser.add_argument("--seconds", type=float, default=10, help="per API measurement")
    parser.add_argument(
        "--catalogue", type=int, default=10_000,
        help="photos of the no-change rebuild's catalogue (0: the gallery)",
    )  # fmt: skip
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA} not found (see ../shared/data/README.md)")
    global _MODELS  # noqa: PLW0603 - one temp folder per run, shared by every step
    base = Path(tempfile.mkdtemp(prefix="bench-inference-"))
    _MODELS = base / "models"
    gallery, phones = base / "gallery", base / "phone"
    linked = link_class_folders(DATA / "train", gallery / "products", args.per_class)
    queries = sorted(DATA.glob("test/*/*.jpg"))
    print(f"machine: {os.cpu_count()} CPUs (shared: other jobs may run); gallery {linked} photos")

    rates = model_only(queries, args.rounds)
    print(f"model only, batch 32   torch eager {rates['torch']:6.1f} img/s   "
          f"ONNX Runtime {rates['onnx']:6.1f} img/s   ({rates['onnx'] / rates['torch']:.2f}x, "
          f"min cosine {rates['min_cos']:.7f})")  # fmt: skip
    e2e, count = rebuild_rate(gallery, gallery / "products")
    print(f"rebuild --full, clothing-small train ({count})   {e2e:6.1f} img/s   "
          f"= {e2e / rates['torch']:.2f}x torch model-only, "
          f"{e2e / rates['onnx']:.2f}x ONNX model-only")  # fmt: skip
    prepare = prepare_cpu_ms(sorted(DATA.glob("train/*/*.jpg"))[::10])
    ceiling = (os.cpu_count() or 1) * 1000 / (rates["onnx_cpu_ms"] + prepare)
    print(f"  CPU per photo: ONNX model {rates['onnx_cpu_ms']:.1f} ms + decode and framing "
          f"{prepare:.1f} ms -> at most {ceiling:.0f} img/s on {os.cpu_count()} cores "
          f"({ceiling / rates['onnx']:.2f}x ONNX model-only)")  # fmt: skip
    decoded = predecoded_rate(sorted(DATA.glob("train/*/*.jpg"))[:1000])
    print(f"  the same pipeline on photos decoded and framed beforehand   {decoded:6.1f} img/s   "
          f"({decoded / rates['onnx']:.2f}x ONNX model-only)")  # fmt: skip
    phone_set(phones / "products", args.phone)
    big, count = rebuild_rate(phones, phones / "products")
    print(f"rebuild --full, phone-size 3000x4000 ({count})   {big:6.1f} img/s")
    if args.catalogue:
        big = base / "catalogue"
        photos = big_catalogue(big / "products", args.catalogue)
        rate, _ = rebuild_rate(big, big / "products", "rebuild")
        print(f"rebuild, {photos:,}-photo catalogue (all data sets)   {rate:6.1f} img/s")
    else:
        big, photos = gallery, linked
    t = no_change(big, big / "products")
    print(f"no-change rebuild ({photos:,} photos) {t['rebuild']:.2f} s   "
          f"stats {t['stats']:.2f} s   --help {t['help']:.2f} s   "
          f"({t['rebuild'] / t['help']:.1f}x, stats {t['stats'] / t['help']:.1f}x)")  # fmt: skip
    p50, p99 = query_latency(gallery, gallery / "products", queries)
    print(
        f"query (decode + embed + search, {linked} gallery)   p50 {p50:.1f} ms   p99 {p99:.1f} ms"
    )
    for (label, clients), r in api_figures(
        gallery, gallery / "products", queries, args.seconds
    ).items():
        print(f"API /predict {label:<38} {clients} client(s)  {r['rps']:6.1f} req/s  "
              f"p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

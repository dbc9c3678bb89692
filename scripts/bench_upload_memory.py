"""Memory of big requests to the API, measured: peak and kept resident memory (RSS) of the server
process while it answers

- one POST /classify with --files tiny PNGs (default 1,000), then one with as many others,
- one POST /predict with a PNG of a few KB that declares --big-mpx megapixels (default 88),
- the same 1,000 files again with MAX_REQUEST_PIXELS low enough to refuse them (413 before any
  decoding).

The app runs in this process (FastAPI TestClient) over a small clothing-small catalogue with the
configured model (EfficientNet-Lite0 by default), warmed by a request with other files first
(the model and its buffers per batch size are a one-time cost, ~160 MB here; a first request
whose last batch has a size not seen before adds ~60 MB once); RSS is sampled from /proc
every 5 ms. Printed side by side: what each request added at its peak and what stayed after it
(uploads wait where the server spooled them, UPLOAD_SPOOL_BYTES, and are decoded a few at a
time; the memory the decoding used goes back to the system once the request is answered).

    python scripts/bench_upload_memory.py [--files 1000] [--big-mpx 88]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from app.api.main import create_app
from app.config import load_settings
from app.container import build_container
from scripts.benchdata import link_class_folders

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "clothing-small"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


class Peak:
    """The highest RSS seen while the block runs (sampled every 5 ms)."""

    def __enter__(self) -> Peak:
        self.before, self.peak, self._stop = rss(), rss(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, rss())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = rss()


def tiny_pngs(count: int, seed: int = 0) -> list[tuple[str, tuple[str, bytes, str]]]:
    rng = np.random.default_rng(seed)
    files = []
    for i in range(count):
        out = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(out, "PNG")
        files.append(("files", (f"{i}.png", out.getvalue(), "image/png")))
    return files


def big_png(mpx: int) -> bytes:
    """A real, highly compressible PNG of about `mpx` megapixels (a few KB)."""
    side = int((mpx * 1_000_000) ** 0.5)
    out = io.BytesIO()
    Image.new("L", (side, side), 255).save(out, "PNG", optimize=True)
    return out.getvalue()


def measure(label: str, send) -> None:
    with Peak() as p:
        status = send()
    peak, kept = (p.peak - p.before) >> 20, (p.after - p.before) >> 20
    print(f"{label:<44} {status:>4}  {peak:>8} MB  {kept:>8} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--big-mpx", type=int, default=88)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        link_class_folders(args.data / "train", root / "products", 5)
        settings = load_settings(
            products_dir=root / "products",
            index_dir=root / "index",
            database_url=f"sqlite:///{root / 'app.db'}",
            examples_dir=root / "examples",
        )
        container = build_container(settings)
        container.rebuild_service().run(None)
        files, big = tiny_pngs(args.files), big_png(args.big_mpx)
        print(f"{args.files} tiny PNGs: {sum(len(f[1][1]) for f in files) / 1024:.0f} KB; "
              f"{args.big_mpx}-Mpx PNG: {len(big) / 1024:.1f} KB")  # fmt: skip
        print(f"{'request':<44} {'code':>4}  {'peak +':>11}  {'kept +':>11}")
        with TestClient(create_app(container, warm_up=False)) as client:
            # one-time costs first (model, its buffers for each batch size the request will
            # use), so the rows show the request itself; other images, so that the timed
            # request embeds every one of its own
            batch = settings.batch_size
            client.post("/classify", files=tiny_pngs(2 * batch + args.files % batch, seed=1))
            measure(f"POST /classify, {args.files} files",
                    lambda: client.post("/classify", files=files).status_code)  # fmt: skip
            others = tiny_pngs(args.files, seed=2)
            measure(f"POST /classify, {args.files} other files",
                    lambda: client.post("/classify", files=others).status_code)  # fmt: skip
            one_big = {"file": ("b.png", big)}
            measure(f"POST /predict, one {args.big_mpx}-Mpx PNG",
                    lambda: client.post("/predict", files=one_big).status_code)  # fmt: skip
        low = settings.model_copy(update={"max_request_pixels": 16 * 16 * (args.files - 1)})
        capped = build_container(low)
        with TestClient(create_app(capped, warm_up=False)) as client:
            measure(f"POST /classify, {args.files} files, capped",
                    lambda: client.post("/classify", files=files).status_code)  # fmt: skip


if __name__ == "__main__":
    main()

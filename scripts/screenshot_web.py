"""Screenshot of the web page searching the demo catalogue (the picture in the README).

Builds the demo catalogue (scripts/make_demo_catalogue.py) in a temporary folder, indexes it with
the packaged EfficientNet-Lite0, serves the API on a free port, chooses a demo query photo in the
page with Debian's Chromium (Playwright) and saves a PNG. Nothing in the checkout is touched
except the output file.

    python scripts/screenshot_web.py [--out docs/web-search.png] [--query coffee] [--width 1200]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchdata import scratch_settings

from app.api.main import create_app
from app.container import build_container
from tests.api.web.harness import chromium_path, launch_chromium, live_server

ROOT = Path(__file__).resolve().parents[1]


def _index_demo(work: Path):
    products, queries = work / "products", work / "queries"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_catalogue.py"),
         "--products-dir", str(products), "--queries-dir", str(queries)],
        check=True,
    )  # fmt: skip
    settings = scratch_settings(
        work,
        products_dir=products,
        models_dir=work / "models",
        embedding_model="efficientnet-lite0",
    )
    container = build_container(settings)
    report = container.rebuild_service().run()
    print(f"indexed {report.embedded} demo photos")
    return container, queries


def _shoot(url: str, query: Path, out: Path, width: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("no Chromium: apt-get install chromium (or set CHROMIUM_PATH)")
    with sync_playwright() as p:
        browser = launch_chromium(p, executable)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(url)
        page.locator("#k").fill("6")
        page.locator("#query-file").set_input_files(str(query))
        page.locator("#k").blur()
        expect(page.locator("#search-status")).to_contain_text("results for", timeout=60_000)
        expect(page.locator("#what-class")).to_be_visible(timeout=60_000)
        page.wait_for_function(
            "[...document.querySelectorAll('#results img')].every(i => i.complete)"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        png = page.locator("#search").screenshot()
        browser.close()
    # 256 colours keep the README picture small (a few hundred KB as full colour)
    Image.open(io.BytesIO(png)).convert("RGB").quantize(256).save(out, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "web-search.png")
    parser.add_argument("--query", default="coffee", help="a demo query (product name)")
    parser.add_argument("--width", type=int, default=1200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="img-recog-shot-") as tmp:
        container, queries = _index_demo(Path(tmp))
        with live_server(create_app(container, warm_up=False)) as url:
            _shoot(url, queries / f"{args.query}.jpg", args.out, args.width)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Make a small demo catalogue from the real photos that ship inside scikit-image.

Only when the products folder is empty: each photo becomes a "product" with a few views
(crops, a mirror image, a small rotation, a colour shift), and one more unseen view per product
goes to data/demo-queries/ for the demo query.

    python scripts/make_demo_catalogue.py [--products-dir DIR] [--queries-dir DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

PHOTOS = [
    "astronaut", "coffee", "chelsea", "rocket", "colorwheel",
    "hubble_deep_field", "retina", "immunohistochemistry", "camera", "coins",
]  # fmt: skip


def _load(name: str) -> Image.Image:
    from skimage import data

    array = getattr(data, name)()
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return Image.fromarray(np.asarray(array[..., :3], dtype=np.uint8))


def _crop(img: Image.Image, frac: float, dx: float = 0.5, dy: float = 0.5) -> Image.Image:
    w, h = img.size
    cw, ch = int(w * frac), int(h * frac)
    left, top = int((w - cw) * dx), int((h - ch) * dy)
    return img.crop((left, top, left + cw, top + ch))


def views(img: Image.Image) -> dict[str, Image.Image]:
    return {
        "front": img,
        "detail": _crop(img, 0.8),
        "mirror": ImageOps.mirror(img),
        "tilted": img.rotate(8, resample=Image.Resampling.BICUBIC, fillcolor=(255, 255, 255)),
        "warm": ImageEnhance.Color(_crop(img, 0.9, 0.3, 0.3)).enhance(1.3),
    }


def query_view(img: Image.Image) -> Image.Image:
    return ImageEnhance.Brightness(_crop(img, 0.75, 0.7, 0.6)).enhance(1.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products-dir", type=Path, default=Path("data/products"))
    parser.add_argument("--queries-dir", type=Path, default=Path("data/demo-queries"))
    args = parser.parse_args()
    if args.products_dir.is_dir() and any(args.products_dir.iterdir()):
        print(f"{args.products_dir} is not empty: using it as it is")
        return 0
    args.queries_dir.mkdir(parents=True, exist_ok=True)
    for name in PHOTOS:
        img = _load(name)
        product = "cat" if name == "chelsea" else name
        folder = args.products_dir / product
        folder.mkdir(parents=True, exist_ok=True)
        for view, image in views(img).items():
            image.save(folder / f"{product}_{view}.jpg", quality=92)
        query_view(img).save(args.queries_dir / f"{product}.jpg", quality=92)
    print(
        f"demo catalogue: {len(PHOTOS)} products x 5 views in {args.products_dir}, "
        f"queries in {args.queries_dir}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

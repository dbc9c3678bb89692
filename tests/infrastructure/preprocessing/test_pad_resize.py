"""Square framing: padding bands, margin, stamp, thread safety."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from app.infrastructure.preprocessing.geometry import square_pad_resize
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor

from ._images import RED, WHITE, encode, noisy_rgb, pixels


def test_wide_image_gets_bands_top_and_bottom() -> None:
    out = square_pad_resize(Image.new("RGB", (200, 100), RED), PreprocessOptions(size=64))
    arr = pixels(out)
    assert out.size == (64, 64)
    assert (arr[:14] == WHITE).all() and (arr[50:] == WHITE).all()
    assert (np.abs(arr[18:46] - RED) <= 2).all()


def test_tall_image_gets_bands_left_and_right() -> None:
    arr = pixels(square_pad_resize(Image.new("RGB", (10, 40), RED), PreprocessOptions(size=40)))
    assert (arr[:, :13] == WHITE).all() and (arr[:, 28:] == WHITE).all()
    assert (np.abs(arr[:, 17:23] - RED) <= 2).all()


def test_padding_adds_a_margin_on_every_side() -> None:
    options = PreprocessOptions(size=60, padding=0.25, bg_rgb=(0, 0, 0))
    arr = pixels(square_pad_resize(Image.new("RGB", (90, 90), RED), options))
    # content side = 60 / 1.5 = 40, so a 10 px margin all round
    assert (arr[:9] == 0).all() and (arr[51:] == 0).all()
    assert (arr[:, :9] == 0).all() and (arr[:, 51:] == 0).all()
    assert (np.abs(arr[12:48, 12:48] - RED) <= 2).all()


def test_stamp_describes_settings() -> None:
    assert PadResizePreprocessor().stamp == "pad:size=256,padding=0.0,bg=ffffff"
    options = PreprocessOptions(size=128, padding=0.1, bg_rgb=(0, 16, 255))
    assert PadResizePreprocessor(options).stamp == "pad:size=128,padding=0.1,bg=0010ff"


def test_concurrent_prepare_is_deterministic() -> None:
    pre = PadResizePreprocessor(PreprocessOptions(size=32))
    data = [encode(noisy_rgb(40, 30, seed=i), "PNG") for i in range(4)]
    expected = [pixels(pre.prepare(d)) for d in data]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda d: pixels(pre.prepare(d)), data * 4))
    for i, got in enumerate(results):
        assert np.array_equal(got, expected[i % 4])

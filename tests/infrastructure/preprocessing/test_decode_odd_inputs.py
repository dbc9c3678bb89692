"""Valid but unusual images are converted to 8-bit RGB correctly, never rejected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.infrastructure.preprocessing.image_io import decode_image, to_rgb
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor

from ._images import RED, encode, noisy_rgb, pixels, write

BLUE = (0, 0, 255)
OPTIONS = PreprocessOptions(size=48, bg_rgb=BLUE)


def _decode(tmp_path: Path, name: str, data: bytes) -> Image.Image:
    img = decode_image(write(tmp_path, name, data), options=OPTIONS)
    assert img.mode == "RGB"
    return img


def test_cmyk_jpeg(tmp_path: Path) -> None:
    cmyk = Image.new("CMYK", (32, 24), (0, 255, 255, 0))  # pure red in CMYK
    img = _decode(tmp_path, "cmyk.jpg", encode(cmyk, "JPEG", quality=95))
    assert img.size == (32, 24)
    r, g, b = pixels(img).mean(axis=(0, 1))
    assert r > 230 and g < 30 and b < 30


def test_16bit_png_gradient_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 256).astype(np.uint16), (8, 1))
    source = Image.fromarray(ramp)
    assert source.mode == "I;16"
    arr = pixels(_decode(tmp_path, "deep.png", encode(source, "PNG")))
    assert arr.min() <= 2 and arr.max() >= 253
    assert 100 < arr[:, 128].mean() < 156
    assert (np.diff(arr[0, :, 0]) >= 0).all()  # still a ramp
    assert (arr[..., 0] == arr[..., 1]).all()


@pytest.mark.parametrize(
    ("mode", "values", "expected"),
    [
        ("I;16B", [0, 32768, 65535], [0, 128, 255]),
        ("I", [0, 32768, 65535], [0, 128, 255]),
        ("I", [-1000, 0, 1000], [0, 128, 255]),
        ("F", [0.0, 0.5, 1.0], [0, 128, 255]),
        ("F", [0.0, 500.0, 1000.0], [0, 128, 255]),
    ],
)
def test_high_depth_modes(mode: str, values: list[float], expected: list[int]) -> None:
    dtype = {"I;16B": ">u2", "I": np.int32, "F": np.float32}[mode]
    source = Image.fromarray(np.array([values], dtype=dtype))
    if mode == "I;16B":
        source = Image.frombytes("I;16B", (3, 1), np.array([values], dtype=">u2").tobytes())
    assert source.mode == mode
    arr = pixels(to_rgb(source, BLUE))
    assert np.abs(arr[0, :, 0] - np.array(expected)).max() <= 1


def test_greyscale_and_one_bit(tmp_path: Path) -> None:
    grey = Image.linear_gradient("L").resize((32, 32))
    arr = pixels(_decode(tmp_path, "grey.png", encode(grey, "PNG")))
    assert (arr[..., 0] == arr[..., 2]).all() and arr.max() > 200 and arr.min() < 50
    bits = Image.new("1", (16, 16), 1)
    assert pixels(_decode(tmp_path, "bits.png", encode(bits, "PNG"))).min() == 255


def test_palette_with_transparency_uses_background(tmp_path: Path) -> None:
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([0, 255, 0] + [255, 0, 0] * 255)
    pal.paste(1, (4, 0, 8, 8))
    img = _decode(tmp_path, "pal.png", encode(pal, "PNG", transparency=0))
    arr = pixels(img)
    assert tuple(arr[0, 0]) == BLUE  # transparent index -> background
    assert tuple(arr[0, 7]) == RED


def test_rgba_and_la_over_background(tmp_path: Path) -> None:
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    rgba.putpixel((3, 3), (255, 0, 0, 255))
    arr = pixels(_decode(tmp_path, "alpha.png", encode(rgba, "PNG")))
    assert tuple(arr[0, 0]) == BLUE
    assert tuple(arr[3, 3]) == RED
    la = Image.new("LA", (2, 2), (255, 128))
    assert tuple(pixels(_decode(tmp_path, "la.png", encode(la, "PNG")))[0, 0]) == (128, 128, 255)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    img.paste(RED, (0, 0, 20, 20))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    out = _decode(tmp_path, "rotated.jpg", encode(img, "JPEG", exif=exif.tobytes()))
    assert out.size == (20, 40)
    arr = pixels(out)
    assert arr[5, 10, 1] < 60 and arr[35, 10, 1] > 200  # the red half is now on top
    assert out.getexif().get(0x0112) in (None, 1)


def test_animated_gif_gives_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), (0, 255, 0))]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert tuple(pixels(_decode(tmp_path, "anim.gif", data))[8, 8]) == RED


@pytest.mark.parametrize("size", [(1, 1), (2000, 20), (20, 2000), (3, 7)])
def test_extreme_shapes_become_square(tmp_path: Path, size: tuple[int, int]) -> None:
    path = write(tmp_path, "shape.png", encode(Image.new("RGB", size, RED), "PNG"))
    out = PadResizePreprocessor(OPTIONS).prepare(path)
    assert out.mode == "RGB" and out.size == (48, 48)


def test_bytes_input_matches_path_input(tmp_path: Path) -> None:
    data = encode(noisy_rgb(50, 30), "JPEG")
    path = write(tmp_path, "photo.jpg", data)
    pre = PadResizePreprocessor(OPTIONS)
    assert np.array_equal(pixels(pre.prepare(path)), pixels(pre.prepare(data, name="photo.jpg")))
    assert np.array_equal(pixels(pre.prepare(str(path))), pixels(pre.prepare(data)))

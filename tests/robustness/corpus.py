"""The bad-input corpus of the robustness suite, generated on the fly (nothing committed).

`build_corpus(folder)` writes one product folder per case and returns the cases: what each one
is, the file name that must appear in rebuild's skip line (None for valid-but-odd images that
must be indexed), and whether it can also be sent as a query (bytes). The byte builders reuse
the decode-level test images in tests/infrastructure/preprocessing/_images.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tests.infrastructure.preprocessing._images import RED, encode, noisy_rgb, png_declaring


@dataclass(frozen=True)
class Case:
    name: str
    product: str  # folder under the catalogue root
    file: str | None  # file name (str) written there; None when the case writes no plain file
    data: bytes | None  # the file's bytes (None: made by `special`)
    good: bool  # a valid (if odd) image: indexed, not skipped
    reason: str | None = None  # a fragment of the skip reason


def _truncated(fmt: str) -> bytes:
    data = encode(noisy_rgb(), fmt)
    return data[: len(data) // 2]


def _cmyk() -> bytes:
    return encode(Image.new("CMYK", (32, 24), (0, 255, 255, 0)), "JPEG", quality=95)


def _sixteen_bit() -> bytes:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (48, 1))
    return encode(Image.fromarray(ramp), "PNG")


def _palette() -> bytes:
    pal = Image.new("P", (16, 16), 0)
    pal.putpalette([0, 255, 0] + [255, 0, 0] * 255)
    pal.paste(1, (4, 4, 12, 12))
    return encode(pal, "PNG", transparency=0)


def _rgba() -> bytes:
    rgba = Image.new("RGBA", (16, 16), (255, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (4, 4, 12, 12))
    return encode(rgba, "PNG")


def _exif_rotated() -> bytes:
    img = noisy_rgb(40, 20, seed=3)
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(img, "JPEG", exif=exif.tobytes())


def _animated() -> bytes:
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), (0, 255, 0))]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)


def _random_bytes() -> bytes:
    return b"\x00" + np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()


_BAD: list[tuple[str, str, Callable[[], bytes], str]] = [
    ("truncated-jpeg", "truncated.jpg", lambda: _truncated("JPEG"), "truncated"),
    ("truncated-png", "truncated.png", lambda: _truncated("PNG"), "truncated"),
    ("zero-byte", "empty.jpg", lambda: b"", "empty file"),
    ("text-as-jpg", "notes.jpg", lambda: b"just some text\n" * 10, "not an image"),
    ("random-bytes", "noise.jpg", _random_bytes, "not an image"),
    ("decompression-bomb", "bomb.png", lambda: png_declaring(100_000, 100_000), "too large"),
]
_ODD: list[tuple[str, str, Callable[[], bytes]]] = [
    ("cmyk-jpeg", "cmyk.jpg", _cmyk),
    ("16-bit-png", "deep.png", _sixteen_bit),
    ("greyscale", "grey.png", lambda: encode(noisy_rgb(seed=4).convert("L"), "PNG")),
    ("palette-transparency", "palette.png", _palette),
    ("rgba", "alpha.png", _rgba),
    ("exif-rotated", "rotated.jpg", _exif_rotated),
    ("1x1", "dot.png", lambda: encode(Image.new("RGB", (1, 1), RED), "PNG")),
    ("20000x20", "strip.png", lambda: encode(noisy_rgb(20000, 20, seed=5), "PNG")),
    ("animated-gif", "anim.gif", _animated),
]


def byte_cases() -> list[Case]:
    """The cases that are plain bytes (usable as a query upload as well as a catalogue file)."""
    cases = [Case(n, f"bad-{n}", f, build(), False, r) for n, f, build, r in _BAD]
    cases += [Case(n, f"odd-{n}", f, build(), True) for n, f, build in _ODD]
    return cases


def build_corpus(root: Path) -> list[Case]:
    """Write every case under `root` (one product folder each) and return them all.

    Cases that need the file system: a non-UTF-8 file name, a symlink loop, a file that
    disappears between scan and read (made by the caller: see `vanishing`), and a
    permission-denied file (its mode is set here; root still reads it, see the tests)."""
    cases = byte_cases()
    for case in cases:
        folder = root / case.product
        folder.mkdir(parents=True, exist_ok=True)
        (folder / case.file).write_bytes(case.data)
    bad_name = Case("non-utf8-name", "bad-name", "\udcffbad.jpg", None, False, "UTF-8")
    folder = root / bad_name.product
    folder.mkdir(parents=True, exist_ok=True)
    with open(os.path.join(os.fsencode(folder), b"\xffbad.jpg"), "wb") as fh:
        fh.write(encode(noisy_rgb(seed=6), "JPEG"))
    loop = Case("symlink-loop", "loop", None, None, False)
    (root / loop.product).mkdir(parents=True, exist_ok=True)
    (root / loop.product / "again").symlink_to(root / loop.product, target_is_directory=True)
    (root / loop.product / "self.jpg").symlink_to(root / loop.product / "self.jpg")
    locked = Case("permission-denied", "locked", "secret.jpg", None, False, "permission denied")
    (root / locked.product).mkdir(parents=True, exist_ok=True)
    secret = root / locked.product / "secret.jpg"
    secret.write_bytes(encode(noisy_rgb(seed=7), "JPEG"))
    secret.chmod(0)
    return [*cases, bad_name, loop, locked]

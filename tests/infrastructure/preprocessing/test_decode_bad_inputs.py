"""Bad input: each case must raise ImageError naming the file and the reason, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import ImageError, ImageFailure
from app.domain.models import SkippedFile, first_failure
from app.infrastructure.preprocessing.image_io import decode_image
from app.infrastructure.preprocessing.options import PreprocessOptions
from app.infrastructure.preprocessing.passthrough import PadResizePreprocessor

from ._images import encode, noisy_rgb, png_declaring, write


def _truncated(fmt: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        data = encode(noisy_rgb(), fmt)
        return write(folder, f"truncated.{fmt.lower()}", data[: len(data) // 2])

    return build


def _corrupt_png(folder: Path) -> Path:
    data = bytearray(encode(noisy_rgb(), "PNG"))
    data[60:80] = bytes(20)  # inside the IDAT stream
    return write(folder, "corrupt.png", bytes(data))


def _directory(folder: Path) -> Path:
    path = folder / "folder.jpg"
    path.mkdir()
    return path


def _random_bytes(folder: Path) -> Path:
    data = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    return write(folder, "noise.bin", b"\x00" + data)


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "truncated-jpeg": (_truncated("JPEG"), "truncated image data"),
    "truncated-png": (_truncated("PNG"), "truncated image data"),
    "jpeg-header-only": (
        lambda d: write(d, "stub.jpg", encode(noisy_rgb(), "JPEG")[:20]),
        "truncated image data",
    ),
    "zero-bytes": (lambda d: write(d, "empty.jpg", b""), "empty file"),
    "text-as-jpg": (
        lambda d: write(d, "notes.jpg", b"just some text\n" * 10),
        "not an image (unrecognised format)",
    ),
    "random-bytes": (_random_bytes, "not an image (unrecognised format)"),
    "corrupt-png": (_corrupt_png, "corrupt image data"),
    "bomb-100000x100000": (
        lambda d: write(d, "bomb.png", png_declaring(100_000, 100_000)),
        "too large: 10000000000 pixels > limit",
    ),
    "missing": (lambda d: d / "missing.jpg", "file not found"),
    "missing-parent": (lambda d: write(d, "afile", b"x") / "child.jpg", "file not found"),
    "directory": (_directory, "is a directory"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_raises_image_error_naming_file_and_reason(tmp_path: Path, case: str) -> None:
    build, reason = CASES[case]
    path = build(tmp_path)
    with pytest.raises(ImageError) as info:
        decode_image(path, options=PreprocessOptions(size=32))
    message = str(info.value)
    assert str(path) in message
    assert reason in message
    assert "\n" not in message
    assert info.value.path == str(path)


def test_per_call_pixel_limit_is_checked_from_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "big.png", png_declaring(5000, 4000))  # no pixel data behind it
    with pytest.raises(ImageError, match=r"too large: 5000x4000 pixels > limit 1000000"):
        decode_image(path, options=PreprocessOptions(max_pixels=1_000_000))


def test_a_bomb_past_pils_own_guard_names_the_configured_limit(tmp_path: Path) -> None:
    """PIL refuses 30000x30000 itself (twice its default); the message says our setting."""
    path = write(tmp_path, "bomb.png", png_declaring(30_000, 30_000))
    with pytest.raises(ImageError, match=r"900000000 pixels > limit 1000000 \(MAX_IMAGE_PIXELS\)"):
        decode_image(path, options=PreprocessOptions(max_pixels=1_000_000))


def test_byte_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "heavy.png", encode(noisy_rgb(), "PNG"))
    size = path.stat().st_size
    options = PreprocessOptions(max_bytes=1000)
    with pytest.raises(ImageError, match=rf"heavy\.png: too large: {size} bytes > limit 1000"):
        decode_image(path, options=options)
    with pytest.raises(ImageError, match=rf"too large: {size} bytes > limit 1000"):
        decode_image(path.read_bytes(), options=options)


def test_a_file_that_grows_after_its_size_was_checked_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "growing.png", encode(noisy_rgb(), "PNG"))
    checked = path.stat()
    real_open = Path.open

    def open_after_growth(self: Path, *args, **kwargs):
        if self == path:
            with real_open(self, "ab") as fh:
                fh.write(b"\0" * 5000)  # written by someone else between stat() and read()
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", lambda self, **kw: checked)
    monkeypatch.setattr(Path, "open", open_after_growth)
    limit = checked.st_size + 1000
    with pytest.raises(ImageError, match=rf"growing\.png: too large: {limit + 1} bytes"):
        decode_image(path, options=PreprocessOptions(max_bytes=limit))


def test_an_endless_device_is_refused_at_the_byte_limit() -> None:
    with pytest.raises(ImageError, match=r"/dev/zero: too large: 1001 bytes > limit 1000"):
        decode_image(Path("/dev/zero"), options=PreprocessOptions(max_bytes=1000))


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "locked.jpg", encode(noisy_rgb(), "JPEG"))

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(ImageError, match=r"locked\.jpg: permission denied"):
        decode_image(path)


def test_bytes_errors_use_the_given_name() -> None:
    with pytest.raises(ImageError, match=r"^upload\.jpg: not an image"):
        decode_image(b"<html></html>", name="upload.jpg")
    with pytest.raises(ImageError, match=r"^<bytes>: empty file"):
        decode_image(b"")


def test_preprocessor_raises_the_same_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.png", b"")
    with pytest.raises(ImageError, match=r"empty\.png: empty file"):
        PadResizePreprocessor(PreprocessOptions(size=32)).prepare(path)


def test_global_pil_settings_are_untouched(tmp_path: Path) -> None:
    from PIL import ImageFile

    before = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageError):
        decode_image(
            write(tmp_path, "b.png", png_declaring(5000, 4000)),
            options=PreprocessOptions(max_pixels=10),
        )
    assert before == Image.MAX_IMAGE_PIXELS
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


KINDS: dict[str, ImageFailure] = {
    "truncated-jpeg": ImageFailure.CORRUPT,
    "truncated-png": ImageFailure.CORRUPT,
    "jpeg-header-only": ImageFailure.CORRUPT,
    "zero-bytes": ImageFailure.CORRUPT,
    "text-as-jpg": ImageFailure.NOT_AN_IMAGE,
    "random-bytes": ImageFailure.NOT_AN_IMAGE,
    "corrupt-png": ImageFailure.CORRUPT,
    "bomb-100000x100000": ImageFailure.TOO_LARGE,
    "missing": ImageFailure.UNREADABLE,
    "missing-parent": ImageFailure.UNREADABLE,
    "directory": ImageFailure.UNREADABLE,
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_carries_its_kind_and_keeps_it_when_skipped(tmp_path: Path, case: str) -> None:
    """Front doors pick a status from the kind, never from the wording of the reason."""
    path = CASES[case][0](tmp_path)
    with pytest.raises(ImageError) as info:
        decode_image(path, options=PreprocessOptions(size=32))
    assert info.value.kind == KINDS[case]
    skipped = SkippedFile.of(info.value, "upload.jpg")
    assert (skipped.path, skipped.kind) == ("upload.jpg", KINDS[case])
    again = first_failure([skipped, skipped])
    assert again.kind == KINDS[case] and again.reason.endswith("(and 1 more files)")

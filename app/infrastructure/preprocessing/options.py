"""Settings shared by every preprocessing adapter (built by the container from `Settings`)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_PIXELS = 89_478_485
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class PreprocessOptions:
    """How images are decoded and framed.

    size: output side in pixels (the output is always size x size RGB).
    padding: margin around the content, as a fraction of the padded square's content side.
    bg_rgb: colour of the padding and of transparent pixels.
    max_pixels / max_bytes: inputs declaring more pixels, or files larger, are rejected.
    """

    size: int = 256
    padding: float = 0.0
    bg_rgb: tuple[int, int, int] = (255, 255, 255)
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")
        if not 0.0 <= self.padding < 0.5:
            raise ValueError(f"padding must be in [0, 0.5), got {self.padding}")
        if len(self.bg_rgb) != 3 or any(not 0 <= c <= 255 for c in self.bg_rgb):
            raise ValueError(f"bg_rgb must be three values in 0..255, got {self.bg_rgb}")
        if self.max_pixels < 1 or self.max_bytes < 1:
            raise ValueError("max_pixels and max_bytes must be >= 1")

    @property
    def bg_hex(self) -> str:
        return "".join(f"{c:02x}" for c in self.bg_rgb)

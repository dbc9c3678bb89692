"""Square framing shared by every preprocessor: pad to a square with a margin, then resize."""

from __future__ import annotations

from PIL import Image

from app.infrastructure.preprocessing.lanczos import resize_lanczos
from app.infrastructure.preprocessing.options import PreprocessOptions


def square_pad_resize(img: Image.Image, options: PreprocessOptions) -> Image.Image:
    """Centre `img` on a `size` x `size` canvas of the background colour.

    Equivalent to padding the shorter side to a square, adding a margin of `padding` times
    the square's side on every side, and resizing the result to `size` x `size`; done as
    resize-then-pad so a large photo is never copied onto an even larger canvas.
    """
    size = options.size
    width, height = img.size
    content = size / (1.0 + 2.0 * options.padding)
    scale = content / max(width, height)
    new_w = min(size, max(1, round(width * scale)))
    new_h = min(size, max(1, round(height * scale)))
    framed = img
    if (new_w, new_h) != (width, height):
        framed = resize_lanczos(img, (new_w, new_h))
    if framed.mode != "RGB":
        framed = framed.convert("RGB")
    if (new_w, new_h) == (size, size):  # the content fills the square: no canvas
        return framed if framed is not img else img.copy()
    canvas = Image.new("RGB", (size, size), options.bg_rgb)
    canvas.paste(framed, ((size - new_w) // 2, (size - new_h) // 2))
    return canvas


def pad_stamp(options: PreprocessOptions) -> str:
    """Describe the framing settings, e.g. `pad:size=256,padding=0.0,bg=ffffff`."""
    return f"pad:size={options.size},padding={float(options.padding)},bg={options.bg_hex}"

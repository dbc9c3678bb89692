"""Builders for the test images: everything is generated in memory, nothing is committed."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

RED = (255, 0, 0)
WHITE = (255, 255, 255)


def encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def noisy_rgb(width: int = 64, height: int = 64, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def png_declaring(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR is patched (with a valid CRC) to declare width x height."""
    data = bytearray(encode(Image.new("RGB", (1, 1), RED), "PNG"))
    ihdr_start = 8 + 4  # signature, then the chunk length
    body = (
        b"IHDR" + struct.pack(">II", width, height) + bytes(data[ihdr_start + 12 : ihdr_start + 17])
    )
    data[ihdr_start : ihdr_start + 17] = body
    data[ihdr_start + 17 : ihdr_start + 21] = struct.pack(">I", zlib.crc32(body))
    return bytes(data)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def pixels(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB")).astype(int)


def build_red_saliency_model(path: Path) -> Path:
    """A tiny u2net-shaped ONNX model (1x3x320x320 -> 1x1x320x320): high where red > green."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = np.array([2.0, -2.0, 0.0], dtype=np.float32).reshape(1, 3, 1, 1)
    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["input.1", "w"], ["logits"]),
            helper.make_node("Sigmoid", ["logits"], ["d0"]),
        ],
        "red_saliency",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 320, 320])],
        [helper.make_tensor_value_info("d0", TensorProto.FLOAT, [1, 1, 320, 320])],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path

"""Export a torch embedding graph to ONNX once, verify it, and cache it under MODELS_DIR/onnx.

The cached file is keyed by the model's stamp and a fingerprint of its weights, so a changed model
gets a new export. Each `.onnx` has a `.json` beside it holding its sha256: a corrupt or truncated
file is detected on load and exported again. An export is kept only when, on a few real photos
(or sample texts), every row's cosine to the torch model's row is at least `MIN_COSINE`; otherwise
the refusal is recorded (so later starts do not retry it) and the caller falls back to torch.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from app.atomic_files import atomic_write_bytes, atomic_write_json
from app.domain.scoring import l2_normalize

logger = logging.getLogger("app.embedding")

MIN_COSINE = 0.9999
EXPORT_VERSION = "1"  # bump when the export recipe changes: old cached files are not reused
OPSET = 17


@dataclass(frozen=True)
class ExportRequest:
    """One graph to export: the torch module (built on demand), sample inputs and their axes.

    `inputs` maps each graph input name to a numpy sample (traced); `checks` are more input sets
    (another batch size, another sequence length) the export must also agree on. `dynamic` maps
    an input to the axes that vary, e.g. {0: "batch", 1: "sequence"} for token ids.
    """

    module: Callable[[], Any]
    inputs: dict[str, np.ndarray]
    checks: tuple[dict[str, np.ndarray], ...] = ()
    dynamic: dict[str, dict[int, str]] | None = None


@dataclass(frozen=True)
class CachedGraph:
    """Where one exported graph lives: `<dir>/<slug>-<key>.onnx` and its `.json` record."""

    directory: Path
    label: str  # e.g. "efficientnet-lite0 image tower", for messages
    key: str

    @classmethod
    def of(cls, directory: Path, label: str, stamp: str, fingerprint: str) -> CachedGraph:
        digest = hashlib.sha256(f"{EXPORT_VERSION}|{stamp}|{label}|{fingerprint}".encode())
        return cls(Path(directory), label, digest.hexdigest()[:20])

    @property
    def onnx_path(self) -> Path:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", self.label).strip("_")[-60:]
        return self.directory / f"{slug}-{self.key}.onnx"

    @property
    def record_path(self) -> Path:
        return self.onnx_path.with_suffix(".json")

    def read_record(self) -> dict[str, Any] | None:
        try:
            record = json.loads(self.record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def read_verified(self) -> bytes | None:
        """The cached graph's bytes when they match the recorded sha256, else None."""
        record = self.read_record()
        if record is None or "sha256" not in record:
            return None
        try:
            data = self.onnx_path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            logger.warning("cached ONNX file %s is corrupt: exporting it again", self.onnx_path)
            return None
        return data

    def refusal(self) -> str | None:
        record = self.read_record()
        return str(record["refused"]) if record and "refused" in record else None

    def save(self, data: bytes, min_cosine: float) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.onnx_path, data)
        self._write_record({"sha256": hashlib.sha256(data).hexdigest(), "min_cosine": min_cosine})

    def refuse(self, reason: str) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_record({"refused": reason})
        except OSError as error:
            logger.debug("cannot record the refused export in %s: %s", self.directory, error)

    def _write_record(self, fields: dict[str, Any]) -> None:
        record = {"model": self.label, "exported_at": _now(), **fields}
        atomic_write_json(self.record_path, record)


def export_onnx(request: ExportRequest) -> bytes:
    """The module exported with the torch (TorchScript-based) exporter, batch axes dynamic."""
    import torch

    module = request.module()
    device = next(iter(module.parameters())).device
    args = tuple(torch.from_numpy(value).to(device) for value in request.inputs.values())
    names = list(request.inputs)
    axes = request.dynamic or {}
    dynamic = {name: dict(axes.get(name, {0: "batch"})) for name in names}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            args,
            buffer,
            input_names=names,
            output_names=["features"],
            dynamic_axes={**dynamic, "features": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return buffer.getvalue()


def torch_reference(module: Any, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The torch module's output on one set of inputs."""
    import torch

    device = next(iter(module.parameters())).device
    args = [torch.from_numpy(value).to(device) for value in inputs.values()]
    with torch.inference_mode():
        return module.eval()(*args).float().cpu().numpy()


def row_cosines(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row pair (rows need not be normalised)."""
    a = l2_normalize(np.asarray(expected, dtype=np.float32))
    b = l2_normalize(np.asarray(actual, dtype=np.float32))
    return np.sum(a * b, axis=1)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

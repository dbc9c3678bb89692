"""AttributeHeads with torch: linear heads saved under `<models dir>/<category>/<attribute>/`.

- `model.pt`: the state dict ({"weight", "bias"}), loadable with `torch.load(weights_only=True)`;
- `classes.json`: {classes, model_stamp, embedding_dim, val_accuracy, train_size, val_size,
  trained_at}: what the head answers and which embeddings it reads.
Prediction is a matrix product in numpy; loaded heads are kept in memory and reloaded when their
files change.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.domain.errors import ModelMismatch, NotFound
from app.domain.heads import HeadInfo, LabelledVectors, TrainOptions
from app.domain.zero_shot import softmax
from app.training.linear_head import fit_linear_head

logger = logging.getLogger(__name__)

MODEL_FILE = "model.pt"
CLASSES_FILE = "classes.json"
_INFO_FIELDS = ("classes", "model_stamp", "embedding_dim", "val_accuracy", "train_size", "val_size")

WriteBytes = Callable[[Path, bytes], None]


def _write_bytes(path: Path, data: bytes) -> None:
    path.write_bytes(data)


@dataclass(frozen=True)
class _Loaded:
    info: HeadInfo
    weight: np.ndarray  # (C, D)
    bias: np.ndarray  # (C,)
    signature: tuple


class TorchAttributeHeads:
    def __init__(self, directory: Path, write_bytes: WriteBytes = _write_bytes) -> None:
        self.directory = Path(directory)
        self._write = write_bytes
        self._loaded: dict[tuple[str, str], _Loaded] = {}
        self._lock = threading.Lock()

    def list(self) -> list[HeadInfo]:
        if not self.directory.is_dir():
            return []
        heads = []
        for path in sorted(self.directory.glob(f"*/*/{CLASSES_FILE}")):
            try:
                heads.append(_read_info(path.parent))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning("warning: ignoring damaged head %s: %s", path.parent, exc)
        return heads

    def train(
        self,
        category: str,
        attribute: str,
        data: LabelledVectors,
        options: TrainOptions,
        model_stamp: str,
    ) -> HeadInfo:
        import torch

        classes = data.classes
        if len(classes) < 2:
            raise ValueError(f"a head needs at least two classes, got {classes}")
        index = {name: i for i, name in enumerate(classes)}
        targets = np.array([index[label] for label in data.labels], dtype=np.int64)
        fit = fit_linear_head(data.vectors, targets, len(classes), options)
        folder = self.directory / category / attribute
        folder.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        torch.save(fit.state_dict, buffer)
        info = HeadInfo(
            category=category,
            attribute=attribute,
            classes=classes,
            model_stamp=model_stamp,
            embedding_dim=int(data.vectors.shape[1]),
            val_accuracy=fit.val_accuracy,
            train_size=fit.train_size,
            val_size=fit.val_size,
            trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
            path=str(folder / MODEL_FILE),
        )
        self._write(folder / MODEL_FILE, buffer.getvalue())
        record = {k: v for k, v in asdict(info).items() if k in {*_INFO_FIELDS, "trained_at"}}
        self._write(folder / CLASSES_FILE, json.dumps(record, indent=2).encode("utf-8"))
        with self._lock:
            self._loaded.pop((category, attribute), None)
        return info

    def predict(
        self, category: str, attribute: str, vectors: np.ndarray, model_stamp: str
    ) -> tuple[list[str], np.ndarray]:
        head = self._head(category, attribute)
        if head.info.model_stamp != model_stamp:
            raise ModelMismatch(
                f"head {head.info.key} was trained on {head.info.model_stamp}, current model is "
                f"{model_stamp}: retrain it (`train --category {category} "
                f"--attribute {attribute}`)"
            )
        logits = np.asarray(vectors, dtype=np.float32) @ head.weight.T + head.bias
        return list(head.info.classes), softmax(logits)

    def _head(self, category: str, attribute: str) -> _Loaded:
        folder = self.directory / category / attribute
        try:
            signature = tuple(
                (s.st_mtime_ns, s.st_size)
                for s in ((folder / MODEL_FILE).stat(), (folder / CLASSES_FILE).stat())
            )
        except FileNotFoundError:
            raise NotFound(
                f"no trained head at {folder} (run `train --category {category} "
                f"--attribute {attribute}`)"
            ) from None
        with self._lock:
            loaded = self._loaded.get((category, attribute))
            if loaded is None or loaded.signature != signature:
                loaded = _load(folder, signature)
                self._loaded[(category, attribute)] = loaded
            return loaded


def _read_info(folder: Path) -> HeadInfo:
    raw = json.loads((folder / CLASSES_FILE).read_text(encoding="utf-8"))
    return HeadInfo(
        category=folder.parent.name,
        attribute=folder.name,
        classes=[str(c) for c in raw["classes"]],
        model_stamp=str(raw["model_stamp"]),
        embedding_dim=int(raw["embedding_dim"]),
        val_accuracy=raw.get("val_accuracy"),
        train_size=int(raw.get("train_size", 0)),
        val_size=int(raw.get("val_size", 0)),
        trained_at=str(raw.get("trained_at", "")),
        path=str(folder / MODEL_FILE),
    )


def _load(folder: Path, signature: tuple) -> _Loaded:
    import torch

    try:
        info = _read_info(folder)
        state = torch.load(folder / MODEL_FILE, map_location="cpu", weights_only=True)
        weight = state["weight"].float().numpy()
        bias = state["bias"].float().numpy()
    except Exception as exc:  # torch.load raises many kinds of error on a damaged file
        raise ModelMismatch(f"head at {folder} is damaged ({exc}): retrain it") from None
    if weight.shape != (len(info.classes), info.embedding_dim) or bias.shape != weight.shape[:1]:
        raise ModelMismatch(
            f"head {info.key} is damaged: weights {tuple(weight.shape)} do not match "
            f"{len(info.classes)} classes of dim {info.embedding_dim}: retrain it"
        )
    return _Loaded(info, weight, bias, signature)

"""EMBEDDING_MODEL -> a model; "auto" prefers CLIP and falls back to EfficientNet-Lite0."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from app.atomic_files import atomic_write_json
from app.infrastructure.embedding.efficientnet_lite import MODEL_ID as EFFICIENTNET_ID
from app.infrastructure.embedding.efficientnet_lite import (
    EfficientNetLiteEmbedding,
    is_efficientnet_lite,
)
from app.infrastructure.embedding.finetuned import FineTunedEmbedding, is_checkpoint_name
from app.infrastructure.embedding.hf_model import HFEmbeddingModel, check_local_model_dir
from app.infrastructure.embedding.hub import (
    cached_file,
    looks_like_local_path,
    offline_mode,
    probe_hub,
)
from app.interfaces.embedding import EmbeddingModel

logger = logging.getLogger("app.embedding")

AUTO = "auto"
CLIP_ID = "openai/clip-vit-base-patch32"
RESOLVED_FILE = "resolved_model.json"
FALLBACK_WARNING = (
    f"EMBEDDING_MODEL=auto: {CLIP_ID} is not available (offline, not in the Hugging Face cache); "
    f"using the packaged {EFFICIENTNET_ID} (image-only)"
)


def create_embedding_model(
    name: str,
    device: str,
    num_threads: int,
    state_dir: Path,
    cache_dir: Path | None = None,
) -> EmbeddingModel:
    """The model for EMBEDDING_MODEL=`name`; construction is cheap (weights load on first use).

    An explicit name never falls back: a missing Hub model fails on first use with a clear message,
    a missing local folder fails here. A `.pt` file, or a folder holding `best_model.pt`, is a
    model made by `finetune`. `cache_dir` overrides the Hugging Face cache (tests).
    """
    name = name.strip()
    if is_checkpoint_name(name):
        return FineTunedEmbedding(name, device=device, num_threads=num_threads)
    if name.lower() == AUTO:
        model_id, local_only = resolve_auto(Path(state_dir), cache_dir)
        return _build(model_id, device, num_threads, local_only, cache_dir)
    if looks_like_local_path(name):
        check_local_model_dir(name)
    return _build(name, device, num_threads, False, cache_dir)


def _build(
    model_id: str, device: str, num_threads: int, local_only: bool, cache_dir: Path | None
) -> EmbeddingModel:
    if is_efficientnet_lite(model_id):
        return EfficientNetLiteEmbedding(device, num_threads, model_id)
    return HFEmbeddingModel(
        model_id,
        device=device,
        num_threads=num_threads,
        local_files_only=local_only,
        cache_dir=cache_dir,
    )


def resolve_auto(state_dir: Path, cache_dir: Path | None = None) -> tuple[str, bool]:
    """(model id, local files only) for EMBEDDING_MODEL=auto.

    Order: CLIP in the local Hugging Face cache; else what an earlier start resolved; else CLIP if
    the Hub answers a quick probe (not when HF_HUB_OFFLINE is set); else EfficientNet-Lite0, with
    one warning, remembered in `state_dir` so later starts neither probe nor warn again.
    """
    if cached_file(CLIP_ID, "config.json", cache_dir) is not None:
        return CLIP_ID, True
    remembered = read_resolution(state_dir)
    if remembered is not None:
        return remembered, False
    reason = "HF_HUB_OFFLINE is set" if offline_mode() else probe_hub(CLIP_ID)
    if reason is None:
        return CLIP_ID, False
    logger.warning(FALLBACK_WARNING)
    logger.debug("%s probe failed: %s", CLIP_ID, reason)
    remember_resolution(state_dir, EFFICIENTNET_ID, reason)
    return EFFICIENTNET_ID, False


def read_resolution(state_dir: Path) -> str | None:
    """The model id remembered for "auto", or None (missing or unreadable file)."""
    try:
        data = json.loads((Path(state_dir) / RESOLVED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model_id = data.get("auto") if isinstance(data, dict) else None
    return model_id if isinstance(model_id, str) and model_id else None


def remember_resolution(state_dir: Path, model_id: str, reason: str) -> None:
    """Write state_dir/resolved_model.json atomically; never raises."""
    state_dir = Path(state_dir)
    record = {
        "auto": model_id,
        "reason": reason,
        "resolved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(state_dir / RESOLVED_FILE, record)
    except OSError as error:
        logger.debug("cannot remember the auto model in %s: %s", state_dir, error)

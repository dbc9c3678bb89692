"""Cheap questions to the Hugging Face Hub and its local cache (no model download here)."""

from __future__ import annotations

import os
from pathlib import Path

PROBE_TIMEOUT_S = 3.0
_TRUE = {"1", "true", "yes", "on"}


def one_line(error: object, limit: int = 200) -> str:
    """An error as one short line (for messages shown to users)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def looks_like_local_path(name: str) -> bool:
    """True for names meant as a folder on disk rather than a Hub id ("owner/name")."""
    if name.startswith(("/", "./", "../", "~", ".\\", "..\\")) or "\\" in name:
        return True
    return Path(name).expanduser().exists()


def offline_mode() -> bool:
    """HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, read now (huggingface_hub reads them at import)."""
    from huggingface_hub import constants

    flags = (os.environ.get("HF_HUB_OFFLINE"), os.environ.get("TRANSFORMERS_OFFLINE"))
    return any((flag or "").strip().lower() in _TRUE for flag in flags) or constants.HF_HUB_OFFLINE


def cached_file(repo_id: str, filename: str, cache_dir: Path | None = None) -> Path | None:
    """Path of `filename` of a Hub model in the local cache, or None (never uses the network)."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir)
    return Path(found) if isinstance(found, str) else None


def probe_hub(repo_id: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the Hub answers for `repo_id` within `timeout`, else a one-line reason.

    Unlike `from_pretrained` (about 27 s of retries when offline) this fails within the timeout.
    """
    if offline_mode():
        return "HF_HUB_OFFLINE is set"
    from huggingface_hub import HfApi

    try:
        HfApi().model_info(repo_id, timeout=timeout)
    except Exception as error:
        return one_line(error)
    return None


def files_fingerprint(folder: Path) -> str:
    """Name, size and modification time of every file in a model folder (no reading)."""
    parts = []
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            info = path.stat()
            parts.append(f"{path.relative_to(folder)}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)

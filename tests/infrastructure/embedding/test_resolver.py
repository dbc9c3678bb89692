"""EMBEDDING_MODEL resolution, "auto" included, offline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.domain.errors import BackendUnavailable
from app.infrastructure.embedding import resolver
from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
from app.infrastructure.embedding.hf_model import HFEmbeddingModel
from tests.infrastructure.embedding.tiny_models import TINY_CLIP_DIM, place_in_hf_cache


def _create(name: str, state_dir: Path, cache_dir: Path) -> object:
    return resolver.create_embedding_model(name, "cpu", 0, state_dir, cache_dir=cache_dir)


def _no_probe(repo_id: str, timeout: float = 0.0) -> str | None:
    raise AssertionError(f"the hub was probed for {repo_id}")


def test_explicit_names(tmp_path: Path, tiny_clip_dir: Path) -> None:
    model = _create("efficientnet-lite0", tmp_path, tmp_path)
    assert isinstance(model, EfficientNetLiteEmbedding)
    hub = _create("someone/some-model", tmp_path, tmp_path)
    assert isinstance(hub, HFEmbeddingModel)
    assert hub.model_id == "someone/some-model"
    assert not hub.is_loaded
    local = _create(str(tiny_clip_dir), tmp_path, tmp_path)
    assert isinstance(local, HFEmbeddingModel)
    assert not (tmp_path / resolver.RESOLVED_FILE).exists()


def test_missing_local_folder_fails_at_creation(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="missing-model"):
        _create(str(tmp_path / "missing-model"), tmp_path, tmp_path)


def test_auto_offline_falls_back_once_and_remembers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(resolver, "probe_hub", _no_probe)
    state_dir, cache_dir = tmp_path / "state" / "nested", tmp_path / "empty-cache"
    with caplog.at_level(logging.WARNING, logger="app.embedding"):
        model = _create("auto", state_dir, cache_dir)
    assert isinstance(model, EfficientNetLiteEmbedding)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [resolver.FALLBACK_WARNING]
    assert "\n" not in resolver.FALLBACK_WARNING
    remembered = json.loads((state_dir / resolver.RESOLVED_FILE).read_text())
    assert remembered["auto"] == "efficientnet-lite0"
    assert list(state_dir.iterdir()) == [state_dir / resolver.RESOLVED_FILE]

    caplog.clear()
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(resolver, "offline_mode", lambda: False)
    with caplog.at_level(logging.WARNING, logger="app.embedding"):
        again = _create("auto", state_dir, cache_dir)
    assert isinstance(again, EfficientNetLiteEmbedding)
    assert caplog.records == []


def test_auto_online_probe_failure_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolver, "offline_mode", lambda: False)
    monkeypatch.setattr(resolver, "probe_hub", lambda repo_id: "Name or service not known")
    model = _create("auto", tmp_path / "state", tmp_path / "cache")
    assert isinstance(model, EfficientNetLiteEmbedding)
    assert resolver.read_resolution(tmp_path / "state") == "efficientnet-lite0"


def test_auto_uses_clip_when_the_hub_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resolver, "offline_mode", lambda: False)
    monkeypatch.setattr(resolver, "probe_hub", lambda repo_id: None)
    model = _create("auto", tmp_path / "state", tmp_path / "cache")
    assert isinstance(model, HFEmbeddingModel)
    assert model.model_id == resolver.CLIP_ID
    assert not (tmp_path / "state" / resolver.RESOLVED_FILE).exists()


def test_unreadable_memory_is_ignored(tmp_path: Path) -> None:
    (tmp_path / resolver.RESOLVED_FILE).write_text("{not json")
    assert resolver.read_resolution(tmp_path) is None
    resolver.remember_resolution(tmp_path, "efficientnet-lite0", "test")
    assert resolver.read_resolution(tmp_path) == "efficientnet-lite0"


def test_auto_picks_clip_from_the_local_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_clip_dir: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(resolver, "probe_hub", _no_probe)
    cache_dir = place_in_hf_cache(tiny_clip_dir, tmp_path / "hf-cache", resolver.CLIP_ID)
    state_dir = tmp_path / "state"
    resolver.remember_resolution(state_dir, "efficientnet-lite0", "earlier offline start")
    model = _create("auto", state_dir, cache_dir)
    assert isinstance(model, HFEmbeddingModel)
    assert model.model_id == resolver.CLIP_ID
    assert model.stamp.startswith(f"{resolver.CLIP_ID}:")
    vectors = model.embed_images([Image.new("RGB", (40, 30), (200, 10, 10))])
    assert vectors.shape == (1, TINY_CLIP_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors), 1.0, atol=1e-5)
    assert model.embed_texts(["red"]).shape == (1, TINY_CLIP_DIM)

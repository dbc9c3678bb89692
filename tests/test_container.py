"""The composition root picks adapters from settings, and whole flows work through it."""

from __future__ import annotations

import io

import pytest

from app.cli.context import CliContext
from app.cli.main import run
from app.container import build_container
from app.domain.errors import BackendUnavailable


def test_settings_select_the_adapters(settings):
    faiss = build_container(settings)
    assert faiss.vector_store().info().kind == "faiss-flat"
    memory = build_container(settings.model_copy(update={"vector_store": "memory"}))
    assert memory.vector_store().info().kind == "memory"
    assert faiss.preprocessor().stamp.startswith("pad:")
    rembg = build_container(settings.model_copy(update={"use_bg_removal": True}))
    assert rembg.preprocessor().stamp.startswith("rembg:")


def test_missing_rembg_model_names_the_setting_to_change(
    settings, catalogue, tmp_path, monkeypatch
):
    monkeypatch.setenv("U2NET_HOME", str(tmp_path / "empty-u2net"))
    monkeypatch.setattr("pooch.retrieve", _no_download, raising=False)
    c = build_container(
        settings.model_copy(
            update={"use_bg_removal": True, "rembg_model": "u2net_custom",
                    "rembg_model_path": tmp_path / "missing.onnx"}
        )
    )  # fmt: skip
    with pytest.raises(BackendUnavailable, match="USE_BG_REMOVAL=false"):
        c.preprocessor().prepare(next(catalogue.rglob("*.jpg")))


def _no_download(*args, **kwargs):
    raise ConnectionError("tests never download")


def test_text_query_through_a_tiny_clip(settings, tiny_clip_dir):
    """The transformers adapter end to end: rebuild with CLIP, then a text query by CLI."""
    container = build_container(settings.model_copy(update={"embedding_model": str(tiny_clip_dir)}))
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=out, err=err, container_override=container)
    assert run(["rebuild"], ctx) == 0, err.getvalue()
    assert run(["query", "--text", "a red shoe", "--k", "4", "--json"], ctx) == 0, err.getvalue()
    line = out.getvalue().splitlines()[-1]
    assert '"query": "a red shoe"' in line and line.count('"rank"') == 4


def test_save_preprocessed_writes_what_the_model_saw(settings, fake_model):
    from dependency_injector import providers

    c = build_container(settings.model_copy(update={"save_preprocessed": True}))
    c.embedding_model.override(providers.Object(fake_model))
    c.rebuild_service().run()
    written = sorted(settings.preprocessed_dir.rglob("*.png"))
    assert len(written) == 9
    assert {p.parent.name for p in written} == {"red-shoe", "green-hat", "blue-dress"}

"""The composition root picks adapters from settings, and whole flows work through it."""

from __future__ import annotations

import io

import numpy as np
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


def test_inference_runtime_selects_onnx_runtime_or_torch(settings):
    from app.infrastructure.embedding.batching import MicroBatchingEmbedding
    from app.infrastructure.embedding.efficientnet_lite import EfficientNetLiteEmbedding
    from app.infrastructure.embedding.onnx_model import OnnxEmbedding

    cpu = settings.model_copy(update={"device": "cpu"})
    default = build_container(cpu).embedding_model()
    assert isinstance(default, MicroBatchingEmbedding)  # API requests share model calls
    assert isinstance(default.inner, OnnxEmbedding) and not default.is_loaded
    torch = build_container(cpu.model_copy(update={"inference_runtime": "torch"}))
    assert isinstance(torch.embedding_model().inner, EfficientNetLiteEmbedding)
    assert default.stamp == torch.embedding_model().stamp  # same index either way


def test_int8_precision_wraps_the_onnx_model_and_calibrates_on_the_catalogue(settings, catalogue):
    from app.infrastructure.embedding.int8 import Int8Embedding

    cpu = settings.model_copy(update={"device": "cpu", "inference_precision": "int8"})
    container = build_container(cpu)
    model = container.embedding_model().inner
    assert isinstance(model, Int8Embedding) and not model.is_loaded
    assert model.stamp == f"{build_container(settings).embedding_model().stamp}:int8"
    photos = model._calibration()  # the user's photos, as the preprocessor prepares them
    assert len(photos) == 9 and {p.size for p in photos} == {(256, 256)}


def test_preprocessor_is_chosen_by_value_with_use_bg_removal_as_alias(settings, monkeypatch):
    from app.config import load_settings

    def stamp(**update):
        return build_container(settings.model_copy(update=update)).preprocessor().stamp

    assert stamp(preprocessor="rembg").startswith("rembg:")
    assert stamp(preprocessor="passthrough", use_bg_removal=True).startswith("pad:")
    monkeypatch.setenv("PREPROCESSOR", "rembg")
    assert load_settings(_env_file=None).preprocessor_name == "rembg"
    monkeypatch.setenv("PREPROCESSOR", "")
    monkeypatch.setenv("USE_BG_REMOVAL", "true")
    assert load_settings(_env_file=None).preprocessor_name == "rembg"


def test_each_provider_is_declared_once(settings):
    """One CbR options object serves the live classifier and evaluate's throw-away galleries."""
    c = build_container(settings)
    live = c.retrieval_classifier().options
    assert c.classification.cbr_options() is live
    assert c.retrieval_classifier_factory()(c.vector_store(), c.repository()).options is live


def test_index_settings_select_faiss_kinds_and_qdrant(settings):
    hnsw = build_container(settings.model_copy(update={"faiss_index": "hnsw"})).vector_store()
    assert hnsw.info().kind == "faiss-hnsw"
    assert hnsw.directory == settings.index_dir / "faiss-hnsw"
    qdrant = build_container(settings.model_copy(update={"vector_store": "qdrant"})).vector_store()
    assert qdrant.info().kind == "qdrant"
    assert qdrant.options.path == settings.index_dir / "qdrant" and qdrant.options.url is None


def test_qdrant_server_settings(settings):
    from pydantic import SecretStr

    from app.wiring.storage import qdrant_options

    options = qdrant_options(
        settings.model_copy(
            update={"qdrant_url": "https://q.example:6333", "qdrant_api_key": SecretStr("k"),
                    "qdrant_collection_prefix": "shop", "qdrant_on_disk": True, "hnsw_m": 48}
        )
    )  # fmt: skip
    assert (options.url, options.api_key, options.path) == ("https://q.example:6333", "k", None)
    assert (options.collection_prefix, options.on_disk, options.hnsw_m) == ("shop", True, 48)


def test_rebuild_and_query_on_postgresql_and_qdrant(settings, fake_model, postgres_url, catalogue):
    """The scale-out back ends end to end: a .env change, no code change."""
    from dependency_injector import providers

    c = build_container(
        settings.model_copy(update={"database_url": postgres_url, "vector_store": "qdrant"})
    )
    c.embedding_model.override(providers.Object(fake_model))
    out, err = io.StringIO(), io.StringIO()
    ctx = CliContext(out=out, err=err, container_override=c)
    assert run(["rebuild"], ctx) == 0, err.getvalue()
    query = next(catalogue.glob("green-hat/*.jpg"))
    assert run(["query", "--image", str(query), "--k", "3", "--json"], ctx) == 0, err.getvalue()
    assert out.getvalue().count('"product_id": "green-hat"') == 3
    store = c.vector_store()
    red = {r.id for r in c.repository().list_images() if r.product_id == "red-shoe"}
    near_red = store.vectors(np.array([min(red)]))
    hits = store.search_where(near_red, 9, product_ids=["red-shoe"])[0]  # payloads from rebuild
    assert len(store) == 9 and {i for i, _ in hits} == red


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


def _singletons(container):
    """Every singleton provider of the container, nested Selectors and Dicts included."""
    from dependency_injector import providers

    found, todo = [], list(container.providers.values())
    while todo:
        provider = todo.pop()
        if isinstance(provider, providers.BaseSingleton):
            found.append(provider)
        todo += [p for p in provider.related if p not in found and p not in todo]
    return found


def test_every_shared_object_is_built_once_even_from_many_threads(settings):
    """The API's first requests arrive together: each shared object is still built once."""
    import threading

    from dependency_injector import providers

    c = build_container(settings)
    singletons = _singletons(c)
    assert len(singletons) > 20
    plain = [p for p in singletons if not isinstance(p, providers.ThreadSafeSingleton)]
    assert not plain, plain
    start = threading.Barrier(8)
    built: list[tuple] = []

    def first_request() -> None:
        start.wait()
        built.append((c.vector_store(), c.repository(), c.embedder(), c.gallery_guard()))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len({id(obj) for obj in column}) == 1 for column in zip(*built, strict=True))

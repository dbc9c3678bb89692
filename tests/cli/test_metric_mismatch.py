"""METRIC=l2 over an index built for cosine: say what is wrong, not "the index is empty"."""

from __future__ import annotations

import io

from dependency_injector import providers

from app.cli.context import CliContext
from app.cli.main import run
from app.container import build_container
from conftest import write_product_photo


def _run(settings, model, *argv: str) -> tuple[int, str, str]:
    container = build_container(settings)
    container.embedding_model.override(providers.Object(model))
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    return run(list(argv), ctx), ctx.out.getvalue(), ctx.err.getvalue()


def test_l2_on_a_cosine_index_names_the_cause(settings, fake_model, tmp_path):
    assert _run(settings, fake_model, "rebuild")[0] == 0
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=1)
    l2 = settings.model_copy(update={"metric": "l2"})
    code, _, err = _run(l2, fake_model, "query", "--image", str(query))
    assert code == 1 and "empty" not in err
    assert "saved with metric 'cosine'" in err and "'l2' is configured" in err
    assert "rebuild --full" in err
    _, out, _ = _run(l2, fake_model, "stats")
    assert "index:              unusable" in out and "metric 'cosine'" in out
    code, out, err = _run(l2, fake_model, "rebuild", "--full")
    assert code == 0, err
    code, out, err = _run(l2, fake_model, "query", "--image", str(query), "--k", "3")
    assert code == 0 and "red-shoe" in out.splitlines()[2], err

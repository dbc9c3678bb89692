"""`query` with filters (--product, --exclude-product, --under), --distinct-products and the
relevance cut-off (--min-score, --relative), on cosine and L2, through the real CLI, SQLite and
FAISS (flat and HNSW) with the fast fake model."""

from __future__ import annotations

import io
import json

import pytest
from dependency_injector import providers

from app.cli.context import CliContext
from app.cli.main import run
from app.config import with_overrides
from app.container import build_container
from conftest import COLOURS, write_product_photo

NESTED = {  # folder under the products folder -> colour
    "Fruit/Apple/granny": (40, 200, 40),
    "Fruit/Apple/fuji": (210, 40, 40),
    "Fruit/Pear/conference": (150, 190, 60),
    "Veg/leek": (60, 160, 60),
}


@pytest.fixture(params=[("cosine", "flat"), ("l2", "flat"), ("cosine", "hnsw"), ("l2", "hnsw")])
def make_cli(request, settings, fake_model, tmp_path):
    metric, index = request.param
    nested = tmp_path / "nested"
    for n, (folder, colour) in enumerate(NESTED.items()):
        for view in range(3):
            write_product_photo(nested / folder / f"v{view}.jpg", colour, seed=50 * n + view)
    container = build_container(with_overrides(settings, metric=metric, faiss_index=index))
    container.embedding_model.override(providers.Object(fake_model))

    def invoke(*argv: str) -> tuple[int, list[dict], str]:
        ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
        code = run(list(argv), ctx)
        lines = ctx.out.getvalue().splitlines()
        return code, [json.loads(x) for x in lines if x.startswith("{")], ctx.err.getvalue()

    invoke.metric, invoke.nested = metric, nested
    yield invoke
    container.unwire()


def _query(cli, *extra: str) -> dict:
    query = str(cli.query_image)
    code, results, err = cli("query", "--json", "--image", query, *extra)
    assert code == 0, err
    return results[0]


@pytest.fixture
def cli(make_cli, catalogue):
    assert make_cli("rebuild")[0] == 0
    make_cli.query_image = catalogue / "red-shoe" / "view0.jpg"
    return make_cli


def test_product_filters_keep_only_allowed_products_and_a_full_k(cli):
    only = _query(cli, "--k", "3", "--product", "blue-dress")
    assert [h["product_id"] for h in only["hits"]] == ["blue-dress"] * 3
    two = _query(cli, "--k", "6", "--product", "blue-dress", "green-hat")
    assert sorted(h["product_id"] for h in two["hits"]) == ["blue-dress"] * 3 + ["green-hat"] * 3
    without = _query(cli, "--k", "6", "--exclude-product", "red-shoe")
    assert len(without["hits"]) == 6
    assert "red-shoe" not in {h["product_id"] for h in without["hits"]}
    code, _, err = cli("query", "--image", str(cli.query_image), "--product", "no-such")
    assert code != 0 and "no gallery image matches the filter (products no-such)" in err


def test_under_keeps_the_products_below_a_sub_folder(cli):
    assert cli("rebuild", "--products-dir", str(cli.nested))[0] == 0
    hits = _query(cli, "--k", "9", "--under", "Fruit/Apple")["hits"]
    assert sorted(h["product_id"] for h in hits) == ["fuji"] * 3 + ["granny"] * 3
    hits = _query(cli, "--k", "9", "--under", "Fruit/")["hits"]
    assert {h["product_id"] for h in hits} == {"fuji", "granny", "conference"}
    hits = _query(cli, "--k", "9", "--under", "Fruit", "--exclude-product", "fuji")["hits"]
    assert {h["product_id"] for h in hits} == {"granny", "conference"}


def test_distinct_products_gives_one_hit_per_product(cli):
    plain = _query(cli, "--k", "3")["hits"]
    assert [h["product_id"] for h in plain] == ["red-shoe"] * 3  # three photos of one product
    hits = _query(cli, "--k", "3", "--distinct-products")["hits"]
    assert sorted(h["product_id"] for h in hits) == sorted(COLOURS)
    assert hits[0]["path"] == plain[0]["path"]  # each product's best photo


def test_cut_off_keeps_the_better_hits_in_the_metric_s_direction(cli):
    full = _query(cli, "--k", "9")
    scores = [h["score"] for h in full["hits"]]
    lower_is_better = cli.metric == "l2"
    assert scores == sorted(scores, reverse=not lower_is_better)
    middle = (scores[3] + scores[4]) / 2  # between the 4th and 5th hit
    cut = _query(cli, "--k", "9", "--min-score", str(middle))
    assert [h["score"] for h in cut["hits"]] == scores[:4] and cut["cut"] == 5
    spread = abs(middle - scores[0])
    rel = _query(cli, "--k", "9", "--relative", str(spread))
    assert [h["score"] for h in rel["hits"]] == scores[:4] and rel["cut"] == 5
    assert _query(cli, "--k", "9")["cut"] == 0


def test_dedup_in_the_repl_and_a_bad_threshold_keeps_the_session_going(container, catalogue):
    import shutil

    from tests.cli.test_repl import _session

    shutil.copyfile(catalogue / "blue-dress" / "view0.jpg", catalogue / "red-shoe" / "dup.jpg")
    script = "rebuild\ndedup --threshold 7\ndedup --conflicts-only --json\nquit\n"
    code, out, err = _session(container, script)
    assert code == 0
    assert "threshold must be a cosine similarity in [-1, 1]: 7" in err
    [group] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert group["conflict"] and {"blue-dress", "red-shoe"} <= {
        i["product_id"] for i in group["images"]
    }

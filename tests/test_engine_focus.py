"""The Python API of focused search and duplicates (ImageSearchEngine)."""

from __future__ import annotations

import shutil

from app.domain.search_filters import Cutoff, Focus, SearchOptions
from tests.engine.test_search import engine  # noqa: F401 - the fixture


def test_filtered_distinct_and_cut_search_and_duplicates(engine, catalogue):  # noqa: F811
    shutil.copyfile(catalogue / "red-shoe" / "view1.jpg", catalogue / "green-hat" / "copy.jpg")
    engine.build_index()
    query = catalogue / "blue-dress" / "view0.jpg"
    only = engine.search(query, top_k=3, options=SearchOptions(Focus(products=("green-hat",))))
    assert [h["product_id"] for h in only] == ["green-hat"] * 3
    distinct = engine.search(query, top_k=3, options=SearchOptions(distinct_products=True))
    assert len({h["product_id"] for h in distinct}) == 3
    answer = engine.search_answer(query, top_k=10, options=SearchOptions(cutoff=Cutoff(0.99)))
    assert {h["product_id"] for h in answer["hits"]} == {"blue-dress"}
    assert answer["cut"] == 10 - len(answer["hits"]) > 0
    [conflict] = engine.find_duplicates(conflicts_only=True)
    assert {i["product_id"] for i in conflict["images"]} >= {"red-shoe", "green-hat"}

"""Feedback through the REPL and the one-shot CLI: record, re-rank, list, stats, promote, export."""

from __future__ import annotations

import io
import json

from app.cli.context import CliContext
from app.cli.repl import run_line
from conftest import COLOURS, write_product_photo


def _repl(container, *lines: str) -> tuple[str, str]:
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    for line in lines:
        assert run_line(line, ctx)
    return ctx.out.getvalue(), ctx.err.getvalue()


def _products(out: str) -> list[str]:
    """Product column of the last result table printed."""
    table = out.rsplit("query: ", 1)[1].splitlines()[2:]
    return [row.split()[2] for row in table if row.strip() and row.split()[0].isdigit()]


def test_repl_bad_pushes_a_product_out_of_the_top_k_of_a_near_duplicate(container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["blue-dress"], seed=99)
    near = write_product_photo(tmp_path / "near.jpg", COLOURS["blue-dress"], seed=98)
    out, err = _repl(container, "rebuild", f"query --image {query} --k 3")
    assert _products(out) == ["blue-dress"] * 3 and not err
    out, err = _repl(
        container, f"query --image {query} --k 3", "bad 1", f"query --image {near} --k 3"
    )
    assert "recorded #1: bad blue-dress" in out and not err
    assert "blue-dress" not in _products(out)


def test_repl_good_lifts_a_product_to_the_top(container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["blue-dress"], seed=99)
    near = write_product_photo(tmp_path / "near.jpg", COLOURS["blue-dress"], seed=98)
    out, _ = _repl(container, "rebuild", f"query --image {query} --k 9")
    rank = _products(out).index("red-shoe") + 1  # the last product
    out, err = _repl(
        container,
        f"query --image {query} --k 9",
        f"good {rank} --note 'same item'",
        f"query --image {near} --k 3",
    )
    assert not err
    assert _products(out)[0] == "red-shoe"


def test_judging_needs_a_result_and_a_valid_rank(container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    _, err = _repl(container, "good 1")
    assert "nothing to judge yet" in err
    _, err = _repl(container, "rebuild", f"query --image {query} --k 2", "bad 7", "good x")
    assert "no rank 7 (1..2)" in err and "invalid int value" in err


def test_one_shot_record_list_stats_and_clear(cli, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    assert cli("rebuild").code == 0
    ran = cli("feedback", "--query", str(query), "--product", "green-hat", "--good")
    assert ran.code == 0 and "recorded #1: good green-hat" in ran.out
    cli("feedback", "--query", str(query), "--product", "red-shoe", "--bad", "--note", "no")
    cli("feedback", "--query-id", "1", "--product", "red-shoe", "--good")
    listed = json.loads(cli("feedback", "list", "--product", "red-shoe", "--json").out)
    assert [(j["verdict"], j["note"]) for j in listed] == [("bad", "no"), ("good", None)]
    stats = json.loads(cli("feedback", "stats", "--json").out)
    assert (stats["total"], stats["good"], stats["bad"]) == (3, 2, 1)
    assert stats["most_disputed"][0] == {"product_id": "red-shoe", "good": 1, "bad": 1}
    assert "most disputed:\n  red-shoe: 1 good, 1 bad" in cli("feedback", "stats").out
    assert [d["product_id"] for d in stats["most_disputed"]] == ["red-shoe"]  # not green-hat

    assert "cleared 3 verdicts" in cli("feedback", "clear").out
    assert "(no feedback)" in cli("feedback", "list").out


def test_one_shot_usage_errors(cli, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    cli("rebuild")
    ran = cli("feedback", "--query", str(query), "--good")
    assert ran.code == 2 and "give --query IMG" in ran.err
    ran = cli("feedback", "--query", str(query), "--image-id", "999", "--bad")
    assert ran.code != 0 and "no gallery image with id 999" in ran.err
    ran = cli("feedback", "export")
    assert ran.code == 2 and "give the directory" in ran.err


def test_promote_adds_an_example_that_changes_a_later_prediction(cli, tmp_path):
    purple = (150, 40, 170)
    query = write_product_photo(tmp_path / "q.jpg", purple, seed=1)
    later = write_product_photo(tmp_path / "later.jpg", purple, seed=2)
    cli("rebuild")
    before = json.loads(cli("classify", "--image", str(later), "--json").out)["retrieval"]
    wanted = next(c for c in COLOURS if c != before["class"])
    cli("feedback", "--query", str(query), "--product", wanted, "--good")
    cli("feedback", "--query", str(query), "--product", before["class"], "--bad")
    ran = cli("feedback", "promote")
    assert ran.code == 0 and f"promoted 1 examples ({wanted} +1)" in ran.out
    assert "1 rejected verdicts kept as hard negatives" in ran.out
    after = json.loads(cli("classify", "--image", str(later), "--json").out)["retrieval"]
    assert after["class"] == wanted
    assert "promoted 0 examples" in cli("feedback", "promote").out  # only once


def test_export_writes_class_folders_and_hard_negatives(cli, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    cli("rebuild")
    cli("feedback", "--query", str(query), "--product", "green-hat", "--good")
    cli("feedback", "--query", str(query), "--product", "red-shoe", "--bad")
    ran = cli("feedback", "export", str(tmp_path / "out"))
    assert ran.code == 0 and "exported 1 images in 1 class folders" in ran.out
    files = list((tmp_path / "out" / "green-hat").iterdir())
    assert len(files) == 1 and files[0].name.endswith("_0.jpg")
    rows = (tmp_path / "out" / "hard_negatives.csv").read_text().splitlines()
    assert len(rows) == 2 and ",red-shoe," in rows[1]


def test_repl_classify_then_good_judges_the_predicted_class(container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    out, err = _repl(container, "rebuild", f"classify --image {query}", "good 1", "feedback list")
    assert "recorded #1: good green-hat" in out, err


def test_query_more_like_and_less_like(cli, container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["blue-dress"], seed=99)
    cli("rebuild")
    ids = {r.product_id: r.id for r in container.repository().list_images()}

    def first_rank(*refine: str) -> int:
        ran = cli("query", "--image", str(query), "--k", "9", "--json", *refine)
        assert ran.code == 0, ran.err
        return [h["product_id"] for h in json.loads(ran.out)["hits"]].index("green-hat") + 1

    assert first_rank() == 4
    more, less = str(ids["green-hat"]), str(ids["blue-dress"])
    assert first_rank("--more-like", more, "--less-like", less) < 4
    ran = cli("query", "--text", "hat", "--more-like", "1")
    assert ran.code != 0 and "refine image queries only" in ran.err


def test_re_ranking_can_be_turned_off(settings, fake_model, tmp_path):
    from dependency_injector import providers

    from app.container import build_container

    off = build_container(settings.model_copy(update={"feedback_rerank": False}))
    off.embedding_model.override(providers.Object(fake_model))
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["blue-dress"], seed=99)
    out, _ = _repl(off, "rebuild", f"query --image {query} --k 3", "bad 1 2 3")
    out, _ = _repl(off, f"query --image {query} --k 3")
    assert _products(out) == ["blue-dress"] * 3


def test_an_unreadable_query_is_refused_and_not_kept(cli, settings, tmp_path):
    cli("rebuild")
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    ran = cli("feedback", "--query", str(broken), "--product", "green-hat", "--good")
    assert ran.code != 0 and "broken.jpg" in ran.err
    kept = settings.index_dir / "feedback" / "queries"
    assert not kept.exists() or not any(kept.iterdir())
    assert "(no feedback)" in cli("feedback", "list").out


def test_stats_without_disputes_says_so(cli, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    cli("rebuild")
    cli("feedback", "--query", str(query), "--product", "green-hat", "--good")
    assert json.loads(cli("feedback", "stats", "--json").out)["most_disputed"] == []
    text = cli("feedback", "stats").out
    assert "verdicts: 1 (1 good, 0 bad) on 1 products" in text
    assert "most disputed: none (no product was judged both good and bad)" in text


def test_good_after_classify_judges_only_the_classes_the_table_showed(container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["green-hat"], seed=99)
    out, err = _repl(container, "rebuild", f"classify --image {query} --k 2", "good 3")
    retrieval = next(line for line in out.splitlines() if line.strip().startswith("retrieval"))
    assert "#1 green-hat" in retrieval and "#2 " in retrieval and "#3 " not in retrieval
    assert "no rank 3 (1..2)" in err and "recorded" not in out
    second = retrieval.split("#2 ")[1].split()[0]
    out, err = _repl(container, f"classify --image {query} --k 2", "bad 2")
    assert f"recorded #1: bad {second}" in out, err


def test_re_ranked_hits_keep_their_similarity_and_show_the_change(cli, container, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["blue-dress"], seed=99)
    cli("rebuild")
    plain = json.loads(cli("query", "--image", str(query), "--k", "9", "--json").out)["hits"]
    cli("feedback", "--query", str(query), "--product", "green-hat", "--good")
    ran = cli("query", "--image", str(query), "--k", "9", "--json")
    hits = json.loads(ran.out)["hits"]
    similarity = {h["path"]: h["score"] for h in plain}
    for hit in hits:
        assert -1.0 <= hit["score"] <= 1.0
        assert abs(hit["score"] - similarity[hit["path"]]) < 1e-5  # the raw cosine similarity
    lifted = [h for h in hits if h.get("adjustment")]
    assert lifted and all(h["product_id"] == "green-hat" and h["adjustment"] > 0 for h in lifted)
    order = [h["score"] + h.get("adjustment", 0.0) for h in hits]
    assert order == sorted(order, reverse=True)
    table = cli("query", "--image", str(query), "--k", "9").out
    assert "feedback" in table.splitlines()[1] and "+0." in table

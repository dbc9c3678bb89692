"""`classify` and `train` as a user types them, one-shot and in the REPL."""

from __future__ import annotations

import io
import json

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from app.cli.context import CliContext
from app.cli.main import run
from app.cli.repl import run_repl
from conftest import COLOURS, write_product_photo, write_training_set
from tests.cli.conftest import Ran

TWO = {"red": COLOURS["red-shoe"], "blue": COLOURS["blue-dress"]}


@pytest.fixture
def ccli(classify_container):
    def invoke(*argv: str) -> Ran:
        ctx = CliContext(
            out=io.StringIO(), err=io.StringIO(), container_override=classify_container
        )
        code = run(list(argv), ctx)
        return Ran(code, ctx.out.getvalue(), ctx.err.getvalue())

    return invoke


@pytest.fixture
def queries(tmp_path):
    folder = tmp_path / "queries"
    write_product_photo(folder / "a-red.jpg", COLOURS["red-shoe"], seed=5)
    write_product_photo(folder / "b-green.jpg", COLOURS["green-hat"], seed=6)
    return folder


def test_classify_table(ccli, queries):
    ran = ccli("classify", "--image", str(queries / "a-red.jpg"))
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == f"image: {queries / 'a-red.jpg'}"
    assert lines[1].split()[:4] == ["answer", "value", "conf.", "source"]
    category, color, gender = (line.split() for line in lines[2:5])
    assert category[:2] == ["category", "shoe"] and category[3] == "zero-shot"
    assert color[:2] == ["color", "red"] and "(no" not in ran.out
    assert gender[:2] == ["gender", "?"] and "unsure" in lines[4]


def test_classify_json_folder(ccli, queries):
    ran = ccli("classify", "--image", str(queries), "--json", "--k", "2")
    assert ran.code == 0, ran.err
    red, green = (json.loads(line) for line in ran.out.splitlines())
    assert set(red) == {"image", "category", "attributes", "retrieval", "notes"}
    assert red["category"]["value"] == "shoe" and red["category"]["source"] == "zero-shot"
    assert len(red["category"]["top"]) == 2 and red["retrieval"] is None
    assert red["attributes"]["color"]["value"] == "red"
    assert red["attributes"]["gender"] == {
        **red["attributes"]["gender"], "value": None, "unsure": True,
    }  # fmt: skip
    assert green["category"]["value"] == "hat" and list(green["attributes"]) == ["color"]


def test_train_then_classify_use_trained(ccli, classify_container, queries):
    write_training_set(classify_container.settings().training_dir, "shoe", "color", TWO)
    ran = ccli("train", "--category", "shoe", "--attribute", "color", "--epochs", "40",
               "--lr", "0.01", "--val-fraction", "0.34")  # fmt: skip
    assert ran.code == 0, ran.err
    assert "shoe/color: 2 classes (blue, red), 8 training + 4 validation photos" in ran.out
    assert "validation accuracy 1.000" in ran.out and "model.pt" in ran.out
    ran = ccli("classify", "--image", str(queries / "a-red.jpg"), "--json", "--use-trained")
    result = json.loads(ran.out)
    assert result["attributes"]["color"]["source"] == "trained"
    assert result["attributes"]["gender"]["source"] == "zero-shot"


def test_train_usage_errors(ccli):
    assert ccli("train").code == 2
    assert ccli("train", "--category", "shoe").code == 2
    assert ccli("train", "--all", "--category", "shoe").code == 2
    ran = ccli("train", "--category", "shoe", "--attribute", "color", "--val-fraction", "1.5")
    assert ran.code == 2 and "validation fraction" in ran.err
    ran = ccli("train", "--all")
    assert ran.code == 1 and ran.err.startswith("error: no training data under")


def test_image_only_model_without_heads_or_gallery_is_one_clear_error(cli, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", COLOURS["red-shoe"], seed=1)
    ran = cli("classify", "--image", str(query))
    assert ran.code == 1 and ran.err.count("\n") == 1
    assert "nothing can classify" in ran.err and "EMBEDDING_MODEL=" in ran.err


def test_bad_file_is_one_line_and_others_continue(ccli, queries):
    (queries / "broken.jpg").write_bytes(b"junk")
    ran = ccli("classify", "--image", str(queries), "--json")
    assert ran.code == 3 and len(ran.out.splitlines()) == 2
    assert (
        ran.err.strip() == f"skipped {queries / 'broken.jpg'}: " + ran.err.split(": ", 1)[1].strip()
    )


def test_repl_train_and_classify(classify_container, queries):
    write_training_set(classify_container.settings().training_dir, "shoe", "color", TWO)
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=classify_container)
    script = (
        "train --all --epochs 40 --lr 0.01\n"
        f"classify --image {queries / 'a-red.jpg'} --use-trained\n"
        "classify --image\n"
        "exit\n"
    )
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text(script)
        assert run_repl(ctx) == 0
    out, err = ctx.out.getvalue(), ctx.err.getvalue()
    assert "shoe/color: 2 classes" in out
    assert any(
        line.split()[:2] == ["color", "red"] and "trained" in line for line in out.splitlines()
    )
    assert "expected at least one argument" in err and "Traceback" not in err


def test_cache_lists_and_clears_the_embeddings_on_disk(ccli, classify_container, queries):
    write_training_set(classify_container.settings().training_dir, "shoe", "color", TWO)
    ccli("train", "--all")
    ccli("classify", "--image", str(queries))
    listing = ccli("cache", "list").out
    # 12 training photos + 4 prompt sets
    assert "disk     16 embeddings (text prompts, training photos)" in listing
    assert ccli("cache", "clear").code == 0
    assert "disk" not in ccli("cache", "list").out

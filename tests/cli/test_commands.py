"""One-shot commands as a user types them: rebuild, query (table, JSON, contact sheet), stats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import write_product_photo


def test_rebuild_then_query_table(cli, tmp_path):
    ran = cli("rebuild")
    assert ran.code == 0, ran.err
    assert "9 embedded" in ran.out
    query = write_product_photo(tmp_path / "q.jpg", (30, 180, 40), seed=7)
    ran = cli("query", "--image", str(query), "--k", "2")
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == f"query: {query}"
    assert "rank" in lines[1] and "score" in lines[1] and "product" in lines[1]
    assert lines[2].split()[0] == "1" and "green-hat" in lines[2]
    assert len(lines) == 4


def test_query_json_one_object_per_query(cli, tmp_path):
    cli("rebuild")
    a = write_product_photo(tmp_path / "a.jpg", (200, 30, 30), seed=1)
    b = write_product_photo(tmp_path / "b.jpg", (30, 50, 210), seed=2)
    ran = cli("query", "--image", str(a), str(b), "--json", "--k", "3")
    objects = [json.loads(line) for line in ran.out.splitlines()]
    assert [o["query"] for o in objects] == [str(a), str(b)]
    assert objects[0]["hits"][0]["product_id"] == "red-shoe"
    assert objects[1]["hits"][0]["product_id"] == "blue-dress"
    assert set(objects[0]["hits"][0]) == {"rank", "score", "image_id", "product_id", "path"}
    assert len(objects[0]["hits"]) == 3


def test_query_show_writes_contact_sheet(cli, tmp_path):
    cli("rebuild")
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=1)
    sheet = tmp_path / "out" / "sheet.png"
    ran = cli("query", "--image", str(query), "--k", "3", "--show", str(sheet))
    assert ran.code == 0 and str(sheet) in ran.err
    with Image.open(sheet) as img:
        assert img.width > 4 * 224 and img.height > 224


def test_bad_query_file_is_one_line_and_nonzero(cli, tmp_path):
    cli("rebuild")
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    ran = cli("query", "--image", str(bad))
    assert ran.code == 1
    assert ran.err.strip().count("\n") == 0 and "bad.jpg" in ran.err
    assert "Traceback" not in ran.err


def test_query_before_rebuild_says_so(cli, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=1)
    ran = cli("query", "--image", str(query))
    assert ran.code == 1 and ran.err.startswith("error:") and "rebuild" in ran.err


def test_text_query_on_image_only_model(cli):
    cli("rebuild")
    ran = cli("query", "--text", "red dress")
    assert ran.code == 1 and "text-image model" in ran.err


def test_rebuild_reports_skipped_files_and_exit_code(cli, catalogue):
    (catalogue / "red-shoe" / "zero.jpg").write_bytes(b"")
    ran = cli("rebuild")
    assert ran.code == 3
    assert "zero.jpg" in ran.err and "1 skipped" in ran.out


def test_rebuild_products_dir_flag(cli, tmp_path):
    other = tmp_path / "other"
    write_product_photo(other / "mug" / "1.jpg", (90, 90, 90), seed=1)
    ran = cli("rebuild", "--products_dir", str(other))
    assert ran.code == 0 and "1 embedded" in ran.out


def test_stats(cli):
    cli("rebuild")
    ran = cli("stats")
    assert "images:             9" in ran.out and "products:           3" in ran.out
    data = json.loads(cli("stats", "--json").out)
    assert data["images"] == 9 and data["index"]["size"] == 9
    assert data["images_per_product"]["red-shoe"] == 3 and data["last_rebuild"]


def test_cache_list_and_clear(cli, tmp_path):
    cli("rebuild")
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=1)
    cli("query", "--image", str(query))
    listing = cli("cache", "list").out
    assert "model" in listing and "query" in listing
    assert cli("cache", "clear").out.strip() == "cleared 2 entries"
    assert cli("cache", "list").out.strip() == "cache is empty"


def test_help_is_instant_and_lists_commands():
    ran = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "app.cli.main", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    for name in ("rebuild", "query", "serve", "stats", "cache", "class", "examples", "calibrate"):
        assert name in ran.stdout
    heavy = {"torch", "faiss", "transformers", "rembg", "sqlalchemy"}
    imported = {line.split("|")[-1].strip().split(".")[0] for line in ran.stderr.splitlines()}
    assert not heavy & imported


def test_invalid_setting_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TOP_K", "many")
    ran = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "stats"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
        env={**__import__("os").environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert ran.returncode == 2
    assert "TOP_K" in ran.stderr and "Traceback" not in ran.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("query", "--text", "a cup", "--k", "0"),
        ("query", "--text", "a cup", "--k", "many"),
        ("classify", "photo.jpg", "--k", "0"),
        ("evaluate", "--k", "1", "0"),
    ],
)
def test_bad_k_is_a_usage_error_for_every_command(cli, argv, capsys):
    with pytest.raises(SystemExit) as stopped:  # argparse: usage line, then exit status 2
        cli(*argv)
    assert stopped.value.code == 2
    assert "argument --k:" in capsys.readouterr().err

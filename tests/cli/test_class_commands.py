"""The gallery commands as a user types them, one-shot and in the REPL."""

from __future__ import annotations

import io
import json

from app.cli.context import CliContext
from app.cli.repl import run_script
from conftest import COLOURS, write_product_photo

YELLOW = (230, 210, 20)


def test_class_round_trip_one_shot(cli, tmp_path, settings):
    assert cli("rebuild").code == 0
    photos = [write_product_photo(tmp_path / "y" / f"{i}.jpg", YELLOW, seed=i) for i in range(2)]
    ran = cli("class", "add", "yellow", str(tmp_path / "y"))
    assert ran.code == 0, ran.err
    assert ran.out.startswith("class 'yellow' added: added 2 (ids ")

    listing = cli("class", "list")
    assert "gallery: 4 classes, 11 examples (9 catalogue, 2 added), 11 vectors" in listing.out
    assert any(line.split() == ["yellow", "0", "2"] for line in listing.out.splitlines())
    data = json.loads(cli("class", "list", "--json").out)
    assert (
        data["size"] == 11
        and {"class_name": "yellow", "catalogue": 0, "examples": 2} in (data["classes"])
    )

    more = write_product_photo(tmp_path / "more.jpg", YELLOW, seed=9)
    (tmp_path / "bad.jpg").write_text("no")
    ran = cli("class", "update", "yellow", str(more), str(tmp_path / "bad.jpg"))
    assert ran.code == 3 and "bad.jpg" in ran.err and "added 1" in ran.out
    ran = cli("class", "update", "red-shoe", str(photos[0]), "--replace")
    assert ran.code == 0 and "removed 3" in ran.out

    examples = cli("class", "list", "yellow").out.splitlines()
    assert examples[0] == "class 'yellow': 3 examples"
    first_id = examples[2].split()[0]
    ran = cli("examples", "remove", first_id, "999999")
    assert ran.code == 1 and "no example with id 999999" in ran.err
    ran = cli("examples", "remove", first_id)
    assert ran.code == 0 and f"removed 1 examples (ids {first_id}) from yellow" in ran.out

    ran = cli("class", "remove", "blue-dress")
    assert ran.code == 0 and "3 catalogue photos and 0 added examples" in ran.out
    ran = cli("rebuild")
    assert "3 left out" not in ran.out and "6 left out" in ran.out  # blue-dress + replaced red-shoe
    classes = {c["class_name"] for c in json.loads(cli("class", "list", "--json").out)["classes"]}
    assert classes == {"green-hat", "red-shoe", "yellow"}


def test_user_errors_are_one_line(cli, tmp_path):
    cli("rebuild")
    photo = write_product_photo(tmp_path / "p.jpg", YELLOW, seed=1)
    cases = [
        (("class", "add", "red-shoe", str(photo)), "already exists"),
        (("class", "add", "red-shoe", str(photo)), "use `class update red-shoe FILES...`"),
        (("class", "add", "a/b", str(photo)), "path separators"),
        (("class", "update", "nope", str(photo)), "class 'nope' not found"),
        (("class", "remove", "nope"), "not found"),
        (("class", "list", "nope"), "not found"),
        (("class", "add", "x", str(tmp_path / "missing.jpg")), "file not found"),
    ]
    for argv, message in cases:
        ran = cli(*argv)
        assert ran.code in (1, 2) and message in ran.err, (argv, ran.err)
        assert ran.err.count("\n") == 1 and "Traceback" not in ran.err


def test_calibrate_command(cli, tmp_path):
    cli("rebuild")
    for i, (product, colour) in enumerate(COLOURS.items()):
        write_product_photo(tmp_path / "val" / product / "v.jpg", colour, seed=50 + i)
    ran = cli("calibrate", "--queries", str(tmp_path / "val"), "--target-precision", "1")
    assert ran.code == 0, ran.err
    assert "calibrated max:t=0.05 on 3 photos" in ran.out and "precision 1.000" in ran.out
    assert "calibrated max:t=0.05: min similarity" in cli("class", "list").out
    ran = cli("calibrate", "--queries", str(tmp_path / "val"), "--aggregation", "mean")
    assert ran.code == 2 and "unknown aggregation 'mean'" in ran.err
    assert cli("calibrate", "--clear").out.startswith("cleared 1 calibrations")


def test_repl_round_trip(container, tmp_path):
    write_product_photo(tmp_path / "y" / "a.jpg", YELLOW, seed=1)
    script = "\n".join(
        [
            "rebuild",
            f"class add yellow '{tmp_path / 'y'}'",
            "class add yellow",
            "class list",
            "class frobnicate",
            "class remove yellow",
            "class list --json",
            "exit",
        ]
    )
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    assert run_script(ctx, io.StringIO(script)) == 0
    out, err = ctx.out.getvalue(), ctx.err.getvalue()
    assert "class 'yellow' added: added 1" in out and "gallery: 4 classes" in out
    assert "the following arguments are required: FILES" in err
    assert "invalid choice: 'frobnicate'" in err
    assert "class 'yellow' removed" in out
    assert json.loads(out.splitlines()[-1])["size"] == 9
    assert "Traceback" not in err


def test_adding_a_photo_the_class_already_holds_says_so(cli, tmp_path):
    photo = write_product_photo(tmp_path / "p.jpg", YELLOW, seed=1)
    other = write_product_photo(tmp_path / "o.jpg", YELLOW, seed=2)
    assert "added 1" in cli("class", "add", "yellow", str(photo)).out
    ran = cli("class", "update", "yellow", str(photo))
    assert ran.code == 0 and "0 added, 1 already present" in ran.out and "added 1" not in ran.out
    ran = cli("class", "update", "yellow", str(photo), str(other))
    assert "added 1" in ran.out and "1 already present" in ran.out
    assert cli("class", "list", "yellow").out.count(".jpg") == 2

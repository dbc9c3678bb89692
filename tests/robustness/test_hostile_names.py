"""Hostile or odd names through the API and the CLI: refused at the door with one clear line,
stored in one form (NFC), and a bad stored verdict never blocks the good ones."""

from __future__ import annotations

import unicodedata

import pytest

from app.domain.feedback import GOOD, Judgement
from conftest import COLOURS, write_product_photo
from tests.api.conftest import client, jpeg  # noqa: F401 - the real app fixture, shared

EMOJI_64 = "\U0001f600" * 64  # 64 characters, 256 bytes in UTF-8
HOSTILE = [
    (EMOJI_64, "bytes"),
    ("evil\u202egnp.exe", "text-direction"),  # right-to-left override
    ("zero\u200bwidth", "invisible"),
    ("../../etc", "path separators"),
    ("x" * 101, "characters"),
]


@pytest.mark.parametrize(("name", "reason"), HOSTILE)
def test_api_refuses_hostile_class_names_with_a_json_422(client, container, name, reason):  # noqa: F811
    container.rebuild_service().run(None)
    upload = {"file": ("a.jpg", jpeg((200, 30, 30), 5), "image/jpeg")}
    r = client.post("/upload", files=upload, data={"product_id": name})
    assert r.status_code == 422 and reason in r.json()["message"], r.text
    r = client.post("/feedback", data={"verdict": "good", "query_id": 1, "product_id": name})
    assert r.status_code == 422 and reason in r.json()["message"], r.text
    assert not list(container.settings().examples_dir.glob("*/*"))  # nothing written


def test_cli_refuses_hostile_names_in_one_line(cli, tmp_path):
    photo = write_product_photo(tmp_path / "p.jpg", COLOURS["red-shoe"], seed=3)
    cli("rebuild")
    for name, reason in HOSTILE:
        for argv in (("class", "add", name, str(photo)), ("feedback", "--query", str(photo),
                     "--product", name, "--good")):  # fmt: skip
            ran = cli(*argv)
            assert ran.code == 2 and reason in ran.err, (argv, ran.err)
            assert ran.err.count("\n") == 1 and "Traceback" not in ran.err


def test_nfc_and_nfd_spellings_are_one_class(cli, tmp_path):
    cli("rebuild")
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    one = write_product_photo(tmp_path / "1.jpg", (120, 80, 40), seed=1)
    two = write_product_photo(tmp_path / "2.jpg", (120, 80, 40), seed=2)
    assert cli("class", "add", nfd, str(one)).code == 0
    ran = cli("class", "update", nfc, str(two))
    assert ran.code == 0, ran.err
    listing = cli("class", "list").out
    assert f"{nfc} " in listing and nfd not in listing


def test_a_bad_stored_verdict_never_blocks_the_good_ones(cli, container, tmp_path):
    """A verdict stored before ids were checked (e.g. `../../etc`) is skipped and reported;
    the good verdicts beside it are promoted."""
    cli("rebuild")
    query = write_product_photo(tmp_path / "q.jpg", (150, 40, 170), seed=1)
    assert cli("feedback", "--query", str(query), "--product", "red-shoe", "--good").code == 0
    good = container.feedback_store().list_judgements()[0]
    bad = Judgement(
        query_hash=good.query_hash, query_vector=good.query_vector, product_id="../../etc",
        verdict=GOOD, model_stamp=good.model_stamp, query_ref=good.query_ref,
    )  # fmt: skip
    container.feedback_store().add_judgements([bad])
    ran = cli("feedback", "promote")
    assert ran.code in (0, 3) and "red-shoe +1" in ran.out, (ran.out, ran.err)
    assert "../../etc" in ran.out + ran.err and "path separators" in ran.out + ran.err
    examples = container.settings().examples_dir
    assert not (examples.parent / "etc").exists() and (examples / "red-shoe").is_dir()

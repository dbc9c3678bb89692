"""The bad-input corpus through rebuild, query, classify and the API: one-line reasons, no
tracebacks, every good file indexed, exit status 3 ("finished with skipped files")."""

from __future__ import annotations

import os
import pwd
import tempfile
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.cli.exit_codes import EXIT_SKIPPED
from tests.robustness.corpus import build_corpus, byte_cases


class VanishingPreprocessor:
    """Deletes one file just before it is read: the file scanned, then gone (a real race)."""

    def __init__(self, inner, victim: Path) -> None:
        self._inner = inner
        self._victim = victim
        self.stamp = inner.stamp

    def prepare(self, source, name=None):
        if isinstance(source, str | Path) and Path(source) == self._victim:
            self._victim.unlink(missing_ok=True)
        return self._inner.prepare(source, name=name)

    def __getattr__(self, attr):
        return getattr(self._inner, attr)


def _indexed_paths(container) -> set[str]:
    rows = container.repository().list_images()
    ids = set(container.vector_store().ids().tolist())
    assert {r.id for r in rows if r.embedding_model} == ids  # rows and vectors agree
    return {r.path for r in rows if r.id in ids}


def test_rebuild_over_bad_input_corpus(cli, container, catalogue):
    good_before = {str(p) for p in catalogue.rglob("*") if p.is_file()}
    cases = build_corpus(catalogue)
    victim = catalogue / "gone" / "vanishing.jpg"
    victim.parent.mkdir()
    victim.write_bytes((catalogue / "red-shoe" / "view0.jpg").read_bytes())
    inner = container.preprocessor()
    container.preprocessor.override(providers.Object(VanishingPreprocessor(inner, victim)))

    ran = cli("rebuild")

    assert ran.code == EXIT_SKIPPED, ran.err
    assert "Traceback" not in ran.err + ran.out
    lines = ran.err.splitlines()
    assert all(line.startswith("skipped ") for line in lines), lines
    assert any(line.endswith("vanishing.jpg: file not found") for line in lines)
    for case in cases:
        if case.good or case.name == "permission-denied":
            continue  # root reads a mode-000 file: see test_unreadable_file_is_skipped
        if case.name == "symlink-loop":
            assert any("self.jpg: symlink loop" in line for line in lines)
            continue
        line = next((x for x in lines if f"/{case.product}/" in x), None)
        assert line is not None, f"{case.name}: no skip line in {lines}"
        assert case.reason in line, line
    name_line = next(x for x in lines if "/bad-name/" in x)
    assert "\\xffbad.jpg: file name is not valid UTF-8" in name_line
    indexed = _indexed_paths(container)
    odd = {str(catalogue / c.product / c.file) for c in cases if c.good}
    assert good_before | odd <= indexed
    assert not any("/bad-" in p or "/loop/" in p or "/gone/" in p for p in indexed)
    # a second run over the same folder: same skips, nothing re-embedded, nothing lost
    again = cli("rebuild")
    assert again.code == EXIT_SKIPPED and "0 embedded" in again.out
    assert good_before | odd <= _indexed_paths(container)


@pytest.mark.skipif(not hasattr(os, "seteuid"), reason="needs POSIX user ids")
def test_unreadable_file_is_skipped(container, settings):
    """Root reads any file, so the rebuild runs with the effective uid of `nobody` (in this
    process: the interpreter under /root cannot be started by nobody), over a tree that nobody
    can read and write except for the one mode-000 file."""
    if os.geteuid() != 0:
        pytest.skip("not root: chmod 000 already denies reads (covered by the plain case)")
    nobody = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="img-recog-perm-"))
    base.chmod(0o755)
    products = base / "products"
    for case in byte_cases():
        if case.good:
            (products / case.product).mkdir(parents=True, exist_ok=True)
            (products / case.product / case.file).write_bytes(case.data)
    secret = products / "locked" / "secret.jpg"
    secret.parent.mkdir()
    secret.write_bytes(byte_cases()[-1].data)
    for path in [base, *base.rglob("*")]:
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    secret.chmod(0)
    settings = settings.model_copy(
        update={
            "products_dir": products,
            "index_dir": base / "index",
            "database_url": f"sqlite:///{base / 'app.db'}",
        }
    )
    from app.container import build_container

    c = build_container(settings)
    c.embedding_model.override(container.embedding_model)
    service = c.rebuild_service()
    c.repository().count_images()  # create the database as root, then hand it over
    os.chown(base / "app.db", nobody.pw_uid, nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        report = service.run()
    finally:
        os.seteuid(0)
    assert [(s.path, s.reason) for s in report.skipped] == [(str(secret), "permission denied")]
    assert report.embedded == sum(c.good for c in byte_cases())


def _bad_and_odd():
    return [pytest.param(c, id=c.name) for c in byte_cases()]


@pytest.mark.parametrize("case", _bad_and_odd())
def test_query_and_classify_cli(cli, tmp_path, case):
    assert cli("rebuild").code == 0
    path = tmp_path / case.file
    path.write_bytes(case.data)
    for command in ("query", "classify"):
        ran = cli(command, "--image", str(path), "--json")
        assert "Traceback" not in ran.err + ran.out
        if case.good:
            assert ran.code == 0, ran.err
            assert ran.out.strip(), command
        else:
            assert ran.code != 0, (command, ran.out)
            assert ran.err.strip().count("\n") == 0 and case.file in ran.err, ran.err
            assert case.reason in ran.err


@pytest.fixture
def api(container):
    container.rebuild_service().run()
    with TestClient(create_app(container, warm_up=False), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("case", _bad_and_odd())
def test_api_answers_4xx_for_bad_and_200_for_odd(api, case):
    upload = (case.file, case.data, "application/octet-stream")
    answers = {
        "/search": api.post("/search", files={"file": upload}),
        "/predict": api.post("/predict", files={"file": upload}),
        "/classify": api.post("/classify", files={"files": upload}),
    }
    for route, answer in answers.items():
        if case.good:
            assert answer.status_code == 200, (route, answer.text)
        else:
            assert 400 <= answer.status_code < 500, (route, answer.status_code, answer.text)
            assert "Traceback" not in answer.text
            assert case.reason in answer.text, (route, answer.text)

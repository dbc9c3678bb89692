"""The REPL driven through prompt_toolkit's pipe input, as a user would type."""

from __future__ import annotations

import io
import threading
import time

from prompt_toolkit.application import create_app_session
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from app.cli.context import CliContext
from app.cli.repl import completer as repl_completer
from app.cli.repl import run_repl
from conftest import write_product_photo


def _session(container, text: str) -> tuple[int, str, str]:
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
        pipe.send_text(text)
        code = run_repl(ctx)
    return code, ctx.out.getvalue(), ctx.err.getvalue()


def test_prompt_appears_before_any_model_loads(container, fake_model):
    code, out, _ = _session(container, "help\nexit\n")
    assert code == 0 and "commands:" in out and "query" in out
    assert not fake_model.is_loaded


def test_rebuild_query_and_bad_input_keep_the_session_going(container, tmp_path):
    query = write_product_photo(tmp_path / "q dir" / "q.jpg", (30, 50, 210), seed=4)
    bad = tmp_path / "bad.jpg"
    bad.write_text("text")
    script = "\n".join(
        [
            "rebuild",
            "frobnicate",
            f"query --image {bad}",
            "query --image",
            f"query --image '{query}' --k 2",
            "stats",
            "quit",
            "",
        ]
    )
    code, out, err = _session(container, script)
    assert code == 0
    assert "9 embedded" in out
    assert "unknown command 'frobnicate'" in err
    assert f"{bad}:" in err
    assert "expected at least one argument" in err
    assert "blue-dress" in out.split(f"query: {query}")[1]
    assert "images:             9" in out
    assert "Traceback" not in err


def test_history_file_is_written(container, settings):
    _session(container, "help\nstats\nexit\n")
    assert "stats" in settings.history_file.read_text()


def test_tab_completion_of_commands_options_and_paths(tmp_path, container):
    (tmp_path / "photos").mkdir()
    completer = repl_completer(CliContext(container_override=container))

    def complete(text: str) -> list[str]:
        doc = Document(text, len(text))
        return [c.text for c in completer.get_completions(doc, CompleteEvent())]

    assert "query" in complete("qu")
    assert "--image" in complete("query --im")
    assert "photos" in complete(f"query --image {tmp_path}/ph")[0] or complete(
        f"query --image {tmp_path}/ph"
    ) == ["otos"]
    assert complete(f"query --image {tmp_path}/ph") == ["photos/"]  # folders end with /
    assert complete("cache l") == ["list"]
    assert complete("class ") == ["add", "list", "remove", "update"]
    assert "--replace" in complete("class update --re")
    assert complete("class update ") == []  # no classes before the first rebuild
    assert complete("feedback ")  # subcommands or options, never nothing
    assert {"list", "stats", "clear", "promote", "export"} <= set(complete("feedback "))
    assert complete("feedback list --j") == ["--json"]


def _typed_session(container, keys: list[str]) -> tuple[int, str, str]:
    """Keys typed with pauses, as a person does (Tab completes while the prompt waits)."""
    ctx = CliContext(out=io.StringIO(), err=io.StringIO(), container_override=container)
    with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):

        def type_keys() -> None:
            for key in keys:
                time.sleep(1.5 if key == "\n" else 0.6)  # Tab's completion runs meanwhile
                pipe.send_text(key)

        typist = threading.Thread(target=type_keys)
        typist.start()
        code = run_repl(ctx)
        typist.join()
    return code, ctx.out.getvalue(), ctx.err.getvalue()


def test_tab_completes_subcommands_and_class_names_as_typed(cli, container):
    """Tab pressed in a real prompt: the completed line is what runs."""
    assert cli("rebuild").code == 0
    keys = ["cache l", "\t", "\n", "class list gre", "\t", "\n", "exit\n"]
    code, out, err = _typed_session(container, keys)
    assert code == 0 and "Traceback" not in err, err
    assert "invalid choice" not in err and "not found" not in err
    assert "model" in out  # `cache list` ran
    assert "green-hat" in out  # `class list green-hat` ran


def test_serve_reads_piped_commands_without_a_terminal(cli, monkeypatch, tmp_path):
    query = write_product_photo(tmp_path / "q.jpg", (200, 30, 30), seed=4)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"rebuild\nquery --image {query} --k 1\nexit\n"))
    ran = cli("serve")
    assert ran.code == 0
    assert "9 embedded" in ran.out and "red-shoe" in ran.out and "img-recog>" not in ran.out

"""Settings: typed, read from .env and the environment, every one documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings, load_settings
from app.domain.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_in_env_example():
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_env_example_loads_as_the_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    assert load_settings() == load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("name", "value"),
    [("TOP_K", "0"), ("VECTOR_STORE", "mongo"), ("METRIC", "dot"), ("DEVICE", "tpu"),
     ("PREPROCESS_BG_COLOR", "white"), ("USE_BG_REMOVAL", "perhaps"), ("BATCH_SIZE", "-1")],
)  # fmt: skip
def test_invalid_value_names_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"invalid setting {name}="):
        load_settings(_env_file=None)


def test_dotenv_file_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TOP_K=7\nMETRIC=l2\n")
    monkeypatch.setenv("METRIC", "cosine")
    settings = load_settings()
    assert settings.top_k == 7 and settings.metric == "cosine"  # the environment wins


@pytest.mark.parametrize(
    ("size", "colour", "expected"),
    [("224,224", "255,255,255", (224, (255, 255, 255))), ("224", "#00FF10", (224, (0, 255, 16))),
     (" 300 , 300 ", "0, 16, 255", (300, (0, 16, 255)))],
)  # fmt: skip
def test_documented_size_and_colour_syntax(tmp_path, monkeypatch, size, colour, expected):
    """`PREPROCESS_SIZE=224,224` and `PREPROCESS_BG_COLOR=255,255,255` from a .env file."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"PREPROCESS_SIZE={size}\nPREPROCESS_BG_COLOR={colour}\n")
    settings = load_settings()
    assert (settings.preprocess_size, settings.bg_rgb) == expected


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [("PREPROCESS_SIZE", "224,160", "padded to a square"), ("PREPROCESS_SIZE", "8,8", "16"),
     ("PREPROCESS_BG_COLOR", "256,0,0", "255,255,255"), ("PREPROCESS_BG_COLOR", "1,2", "#ffffff")],
)  # fmt: skip
def test_bad_size_or_colour_says_why(monkeypatch, name, value, reason):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"invalid setting {name}=.*{reason}"):
        load_settings(_env_file=None)

"""`finetune` options come from FinetuneConfig's fields, with the documented aliases."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest

from app.cli.learning import finetune_args
from app.cli.options import config_from_args
from app.domain.training import FinetuneConfig


def _parse(*argv: str) -> FinetuneConfig:
    parser = argparse.ArgumentParser(exit_on_error=False)
    finetune_args(parser)
    return config_from_args(FinetuneConfig, parser.parse_args(list(argv)))


def test_no_options_give_the_dataclass_defaults():
    assert _parse() == FinetuneConfig()


def test_every_field_has_an_option():
    parser = argparse.ArgumentParser()
    finetune_args(parser)
    dests = {action.dest for action in parser._actions}
    assert {f.name for f in fields(FinetuneConfig)} <= dests


def test_documented_aliases_are_accepted():
    config = _parse("--use_bf16=false", "--num_workers=8", "--accum_steps=2")
    assert (config.amp, config.num_workers, config.accumulation) == (False, 8, 2)
    assert _parse("--use_bf16").amp is True and _parse("--no-amp").amp is False
    assert _parse("--amp", "true", "--tf32=no").tf32 is False


def test_values_are_typed_and_checked():
    argv = "-P 6 -K 5 --epochs 3 --select recall@1 --max-minutes 12.5 --margin 0.3"
    config = _parse(*argv.split(), "--unfreeze-blocks", "2")
    assert (config.classes_per_batch, config.images_per_class) == (6, 5)
    assert (config.unfrozen_epochs, config.select_metric, config.max_minutes) == (
        3,
        "recall@1",
        12.5,
    )
    assert (config.margin, config.scale, config.unfreeze_blocks) == (0.3, None, 2)
    with pytest.raises(argparse.ArgumentError):
        _parse("--use_bf16=maybe")

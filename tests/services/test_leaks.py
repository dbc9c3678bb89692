"""`split` and `evaluate` warn about near-duplicates that straddle splits, over the real
cub100-birds photos whose README lists 7 near-duplicate pairs, 5 of them across splits (the file
names share no ID), with the packaged EfficientNet-Lite0."""

from __future__ import annotations

import csv
import re

import pytest

from app.container import build_container
from conftest import SHARED_DATA, run_cli

pytestmark = pytest.mark.slow
CUB = SHARED_DATA / "cub100-birds"


@pytest.fixture(scope="module")
def birds(tmp_path_factory):
    """The photos of the 7 listed pairs plus one other photo of each species, symlinked into
    the data set's own train/val/test layout."""
    if not (CUB / "near_duplicates.csv").is_file():
        pytest.skip(f"real photos not found at {CUB} (see ../shared/data/README.md)")
    with open(CUB / "near_duplicates.csv", newline="") as fh:
        pairs = [(row["path_a"], row["path_b"]) for row in csv.DictReader(fh)]
    root = tmp_path_factory.mktemp("birds")
    data = root / "data"
    wanted = {p for pair in pairs for p in pair}
    for rel in sorted(wanted):
        species = rel.split("/")[1]
        other = next(p for p in sorted((CUB / "train" / species).glob("*.jpg"))
                     if f"train/{species}/{p.name}" not in wanted)  # fmt: skip
        wanted_other = f"train/{species}/{other.name}"
        for name in (rel, wanted_other):
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            if not (data / name).exists():
                (data / name).symlink_to(CUB / name)
    return root, data, pairs


def test_split_and_evaluate_warn_about_the_listed_leaks(birds):
    from app.config import load_settings

    root, data, pairs = birds
    settings = load_settings(
        _env_file=None,
        splits_dir=root / "splits",
        index_dir=root / "index",
        database_url=f"sqlite:///{root / 'app.db'}",
        embedding_model="efficientnet-lite0",
    )
    container = build_container(settings)
    code, _, err = run_cli(container, "split", str(data))
    assert code == 0, err
    [line] = [x for x in err.splitlines() if "straddle splits" in x]
    assert re.match(r"warning: 5 near-duplicate pairs straddle splits", line), line
    for a, b in pairs[:3]:  # the first pairs listed: train/test leaks
        assert f"{a} ~ test:{b}" in line or f"{b} ~ train:{a}" in line or "more" in line

    code, _, err = run_cli(container, "evaluate", "--split", "test", "--out", str(root / "ev"))
    assert code == 0, err
    [line] = [x for x in err.splitlines() if "straddle splits" in x]
    assert line.startswith("warning: 3 near-duplicate pairs"), line  # train/test only
    for a, b in pairs[:3]:
        assert a.split("/", 1)[1] in line and b.split("/", 1)[1] in line

    code, _, err = run_cli(container, "split", str(data), "--force", "--no-leak-check")
    assert code == 0 and "straddle" not in err

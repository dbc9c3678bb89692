"""`split` on the real ETH-80 objects: groups never straddle splits, classes stay balanced,
same seed same split, small images exclude their whole group, saved splits are reused."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path, PurePath

import pytest
from PIL import Image

from app.domain.errors import ConfigError, NotFound
from app.domain.splits import SPLIT_NAMES, SplitFractions, group_of
from app.infrastructure.documents.json_files import JsonFiles
from app.infrastructure.preprocessing.image_size import image_size
from app.services.splitting import SplitOptions, SplitService
from conftest import eth80_or_skip, eth80_subset


def _service(splits_dir: Path) -> SplitService:
    return SplitService(splits_dir, JsonFiles(), image_size)


def _split(tmp_path: Path, data: Path, name: str = "splits", **options):
    service = _service(tmp_path / name)
    return service, service.run(data, SplitOptions(**options))


def _groups(files: list[str]) -> set[str]:
    return {group_of(rel) for rel in files}


@pytest.fixture(scope="module")
def eth80_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("split")
    service = _service(root / "splits")
    report = service.run(eth80_or_skip(), SplitOptions(seed=0))
    return service.load(), report


def test_no_object_in_two_splits(eth80_split):
    split, _ = eth80_split
    groups = [_groups(split.files[name]) for name in SPLIT_NAMES]
    assert not groups[0] & groups[1] and not groups[0] & groups[2] and not groups[1] & groups[2]
    assert sum(len(g) for g in groups) == 80  # every object placed once


def test_every_image_is_placed_once_with_its_class(eth80_split):
    split, report = eth80_split
    everything = [rel for name in SPLIT_NAMES for rel in split.files[name]]
    assert len(everything) == len(set(everything)) == 1120
    assert split.classes == sorted(split.classes) and len(split.classes) == 8
    assert split.class_to_idx["apple"] == 0
    path, name = split.labelled("test")[0]
    assert Path(path).is_file() and Path(path).parent.name == name
    assert report.excluded == [] and report.skipped == []


def test_class_ratios_within_tolerance(eth80_split):
    split, _ = eth80_split
    for name, share in zip(SPLIT_NAMES, (0.70, 0.15, 0.15), strict=True):
        per_class = Counter(PurePath(rel).parts[0] for rel in split.files[name])
        total = len(split.files[name]) / 1120
        assert total == pytest.approx(share, abs=0.02)
        for count in per_class.values():
            # 10 objects of 14 views per class: at most one object away from the target
            assert abs(count - share * 140) <= 14


def test_same_seed_same_split_other_seed_other_split(tmp_path):
    data = eth80_or_skip()
    _, first = _split(tmp_path, data, "a", seed=7)
    _, again = _split(tmp_path, data, "b", seed=7)
    _split(tmp_path, data, "c", seed=8)
    read = [json.loads((tmp_path / d / "test_ids.json").read_text()) for d in "abc"]
    assert read[0] == read[1]
    assert read[0] != read[2]
    assert first.counts == again.counts


def test_group_with_one_small_image_is_excluded_and_reported(tmp_path):
    data = eth80_subset(tmp_path / "data", classes=2, groups=4, views=3)
    small = data / "apple" / "apple1_999.jpg"  # one more view of apple1, too small
    Image.new("RGB", (100, 120), (200, 30, 30)).save(small)
    _, report = _split(tmp_path, data)
    assert [(e.group, e.class_name, e.images) for e in report.excluded] == [("apple1", "apple", 4)]
    assert "apple/apple1_999.jpg is 100x120, below 224x224" in report.excluded[0].reason
    placed = [rel for counts in report.counts.values() for rel in counts]
    assert placed  # the other groups are split
    split = _service(tmp_path / "splits").load()
    assert not any(group_of(rel) == "apple1" for name in SPLIT_NAMES for rel in split.files[name])
    assert sum(len(split.files[n]) for n in SPLIT_NAMES) == 2 * 4 * 3 - 3


def test_min_size_is_configurable(tmp_path):
    data = eth80_subset(tmp_path / "data", classes=1, groups=3, views=2)
    _, report = _split(tmp_path, data, min_width=256, min_height=256)
    assert report.excluded == []  # the photos are 256x256
    with pytest.raises(NotFound, match="all 3 groups have an image below 257x10"):
        _split(tmp_path, data, "other", min_width=257, min_height=10)


def test_saved_split_is_reused_unless_forced(tmp_path):
    data = eth80_subset(tmp_path / "data", classes=2, groups=4, views=2)
    service, first = _split(tmp_path, data, seed=1)
    assert not first.reused
    extra = data / "apple" / "zzz_1.jpg"
    shutil.copy(data / "apple" / "apple1_1.jpg", extra)
    again = service.run(data, SplitOptions(seed=2))
    assert again.reused and again.seed == 1 and again.counts == first.counts
    forced = service.run(data, SplitOptions(seed=2, force=True))
    assert not forced.reused and forced.seed == 2
    assert sum(sum(c.values()) for c in forced.counts.values()) == 2 * 4 * 2 + 1


def test_split_of_another_folder_is_not_reused_silently(tmp_path):
    one = eth80_subset(tmp_path / "one", classes=1, groups=2, views=1)
    two = eth80_subset(tmp_path / "two", classes=1, groups=2, views=1)
    service, _ = _split(tmp_path, one)
    with pytest.raises(ConfigError, match="--force"):
        service.run(two, SplitOptions())


def test_unreadable_files_are_skipped_and_reported(tmp_path):
    data = eth80_subset(tmp_path / "data", classes=2, groups=2, views=2)
    (data / "apple" / "broken_1.jpg").write_text("not an image")
    _, report = _split(tmp_path, data, fractions=SplitFractions(0.5, 0.25, 0.25))
    assert [Path(s.path).name for s in report.skipped] == ["broken_1.jpg"]
    assert report.skipped[0].reason == "not an image"


def test_missing_split_and_folder_are_clear_errors(tmp_path):
    with pytest.raises(NotFound, match="run `split DATA_DIR` first"):
        _service(tmp_path / "none").load()
    with pytest.raises(NotFound, match="data folder not found"):
        _service(tmp_path / "s").run(tmp_path / "missing", SplitOptions())


def _presplit_tree(root: Path, folders: dict[str, list[str]]) -> Path:
    """A pre-split tree of symlinks: {split folder: [class path]}; 3 ETH-80 objects x 2 views
    per class, the class path nested (`Fruit/apple`) to test leaf-folder classes."""
    source = eth80_or_skip()
    for top, class_paths in folders.items():
        for class_path in class_paths:
            leaf = PurePath(class_path).name
            photos = sorted((source / leaf).glob("*_[12].jpg"))[:6]
            for photo in photos:
                target = root / top / class_path / f"{top}{photo.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(photo)
    return root


def test_presplit_tree_is_kept_as_it_is_with_leaf_folder_classes(tmp_path):
    classes = ["Fruit/apple", "Fruit/pear", "Animal/Farm/cow"]
    data = _presplit_tree(
        tmp_path / "data", {"train": classes, "validation": classes, "test": classes}
    )
    service, report = _split(tmp_path, data)
    assert "validation/" in report.layout and "as they are" in report.layout
    split = service.load()
    assert split.classes == ["apple", "cow", "pear"]
    for name, folder in (("train", "train"), ("val", "validation"), ("test", "test")):
        assert all(rel.startswith(f"{folder}/") for rel in split.files[name])
        assert report.counts[name] == {"apple": 6, "cow": 6, "pear": 6}
        assert {c for _, c in split.labelled(name)} == {"apple", "cow", "pear"}
    path, name = split.labelled("test")[0]
    assert Path(path).is_file() and Path(path).parent.name == name
    # the documented *_ids.json files list group IDs; the paths are in *_files.json
    ids = json.loads((tmp_path / "splits" / "train_ids.json").read_text())
    assert "trainapple1" in ids and not any("/" in i for i in ids)
    assert len(json.loads((tmp_path / "splits" / "train_files.json").read_text())) == 18


def test_presplit_tree_without_val_carves_val_from_train_by_group(tmp_path):
    classes = ["apple", "cup"]
    data = _presplit_tree(tmp_path / "data", {"train": classes, "test": classes})
    service, report = _split(tmp_path, data, fractions=SplitFractions(0.6, 0.4, 0.0))
    assert "val carved from train by group" in report.layout
    split = service.load()
    train, val = _groups(split.files["train"]), _groups(split.files["val"])
    assert val and train and not train & val
    assert all(rel.startswith("train/") for rel in split.files["val"])
    assert all(rel.startswith("test/") for rel in split.files["test"])
    assert set(report.counts["val"]) == {"apple", "cup"}  # stratified by class


def test_resplit_ignores_the_folders_and_splits_by_group(tmp_path):
    classes = ["apple", "cup"]
    data = _presplit_tree(tmp_path / "data", {"train": classes, "val": classes, "test": classes})
    service, _ = _split(tmp_path, data)
    again = service.run(data, SplitOptions(resplit=True))
    assert not again.reused and "by group" in again.layout
    split = service.load()
    assert split.classes == ["apple", "cup"]
    placed = [rel for name in SPLIT_NAMES for rel in split.files[name]]
    assert len(placed) == 36 and any(rel.startswith("test/") for rel in split.files["train"])
    assert service.run(data, SplitOptions(resplit=True)).reused
    assert not service.run(data, SplitOptions()).reused  # back to the tree's own folders


def test_old_split_files_listing_paths_still_load(tmp_path):
    data = eth80_subset(tmp_path / "data", classes=2, groups=4, views=2)
    service, first = _split(tmp_path, data)
    for name in SPLIT_NAMES:  # a split written before *_files.json existed
        files = tmp_path / "splits" / f"{name}_files.json"
        (tmp_path / "splits" / f"{name}_ids.json").write_text(files.read_text())
        files.unlink()
    assert service.run(data, SplitOptions()).counts == first.counts

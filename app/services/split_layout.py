"""Which layout a data folder has: class folders to split by group, or a tree already split.

A tree is already split when it holds a top-level `train/` folder and a `val/` (or `validation/`)
or `test/` folder beside it. Classes are leaf folders at any depth, the same rule as product ids
(`train/Fruit/Apple/Golden-Delicious/x.jpg` -> class `Golden-Delicious`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.domain.splits import SPLIT_NAMES

GROUPED = "grouped"  # class folders, split by group (ID) here
PRESPLIT = "presplit"  # the data set's own train/val/test folders

# the folder names each split may have, in order of preference
SPLIT_FOLDERS = {"train": ("train",), "val": ("val", "validation"), "test": ("test",)}


@dataclass(frozen=True)
class Layout:
    kind: str  # GROUPED or PRESPLIT
    folders: dict[str, str]  # split name -> its top-level folder (PRESPLIT only)

    @property
    def carve_val(self) -> bool:
        """A pre-split tree without a val folder: val is carved from train by group."""
        return self.kind == PRESPLIT and "val" not in self.folders

    def describe(self, data_dir: Path) -> str:
        if self.kind == GROUPED:
            return f"split the class folders of {data_dir} by group (ID)"
        found = ", ".join(f"{folder}/" for folder in self.folders.values())
        note = "; val carved from train by group" if self.carve_val else ""
        return f"used the folders {found} of {data_dir} as they are (no file moved){note}"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "folders": dict(self.folders)}


def detect_layout(data_dir: Path, resplit: bool = False) -> Layout:
    """PRESPLIT when `data_dir` holds train/ and val|validation/ or test/ (unless `resplit`)."""
    if resplit:
        return Layout(GROUPED, {})
    folders: dict[str, str] = {}
    for split in SPLIT_NAMES:
        for name in SPLIT_FOLDERS[split]:
            if (data_dir / name).is_dir():
                folders[split] = name
                break
    if "train" in folders and len(folders) > 1:
        return Layout(PRESPLIT, folders)
    return Layout(GROUPED, {})


def split_of(rel: str, layout: Layout) -> str | None:
    """The split a file (path relative to the data folder) belongs to in a pre-split tree."""
    top = rel.split("/", 1)[0]
    for split, folder in layout.folders.items():
        if folder == top:
            return split
    return None


def saved_kind(manifest: dict) -> str:
    """The layout kind a saved split was made with (splits before layouts: GROUPED)."""
    return str((manifest.get("layout") or {}).get("kind", GROUPED))

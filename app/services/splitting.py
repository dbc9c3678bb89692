"""Use case: split a class-folder tree into train/val/test by group, and read a saved split.

`DATA_DIR/<class>/<ID>_<sequence>.jpg`: all photos of one ID (one object) go to one split. A tree
that is already split (top-level `train/`, `val/` or `validation/`, `test/`) is kept as it is,
val carved from train by group when missing (see split_layout; `resplit` ignores those folders).
Classes are leaf folders. Groups with any image below the minimum size are left out whole. The
split is written once to SPLITS_DIR as `{train,val,test}_ids.json` (the group IDs of each split),
`{train,val,test}_files.json` (paths relative to DATA_DIR), `class_to_idx.json` and
`manifest.json`, and reused by later runs until `force` (or another layout is asked for).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath

from app.domain.errors import ConfigError, NotFound
from app.domain.models import SkippedFile
from app.domain.splits import (
    SPLIT_NAMES,
    DatasetSplit,
    ExcludedGroup,
    SplitFractions,
    SplitReport,
    assign_groups,
    group_of,
)
from app.interfaces.documents import Documents
from app.services.leaks import LeakFinder
from app.services.progress import ProgressFactory, no_progress
from app.services.scanning import iter_image_files
from app.services.split_layout import Layout, detect_layout, saved_kind, split_of

# (width, height) of an image file, or why it was skipped
ImageSize = Callable[[Path], tuple[int, int] | SkippedFile]
MANIFEST_FILE = "manifest.json"
CLASS_FILE = "class_to_idx.json"


def split_file(name: str) -> str:
    """The group IDs of one split (as documented for `train_ids.json`)."""
    return f"{name}_ids.json"


def files_file(name: str) -> str:
    """The image paths of one split, relative to the data folder."""
    return f"{name}_files.json"


@dataclass(frozen=True)
class SplitOptions:
    seed: int = 0
    fractions: SplitFractions = field(default_factory=SplitFractions)
    min_width: int = 224
    min_height: int = 224
    force: bool = False
    resplit: bool = False  # split by group even when the tree has train/val/test folders
    check_leaks: bool = True  # look for near-duplicates across splits (when a LeakFinder is wired)


@dataclass(frozen=True)
class _Image:
    rel: str
    class_name: str
    group: str
    size: tuple[int, int]


@dataclass(eq=False)
class SplitService:
    splits_dir: Path
    documents: Documents  # the saved split's JSON files
    image_size: ImageSize  # reads a file's header
    progress: ProgressFactory = no_progress
    leaks: LeakFinder | None = None

    def __post_init__(self) -> None:
        self.splits_dir = Path(self.splits_dir)

    def run(
        self, data_dir: Path, options: SplitOptions, splits_dir: Path | None = None
    ) -> SplitReport:
        data_dir = Path(data_dir).expanduser().resolve()
        out = Path(splits_dir or self.splits_dir)
        if not data_dir.is_dir():
            raise NotFound(f"data folder not found: {data_dir}")
        layout = detect_layout(data_dir, options.resplit)
        if not options.force and self._saved_kind(out) == layout.kind:
            return self._reuse(out, data_dir)
        images, skipped = self._scan(data_dir, layout)
        if not images:
            raise NotFound(f"no images in class folders under {data_dir} (DATA_DIR/<class>/*.jpg)")
        kept, excluded = _exclude_small_groups(images, options)
        if not kept:
            raise NotFound(
                f"all {len(excluded)} groups have an image below "
                f"{options.min_width}x{options.min_height}: lower --min-size"
            )
        assigned = _assign(kept, options, layout)
        manifest = _manifest(
            data_dir, assigned, options, layout, excluded=excluded, skipped=skipped
        )
        self._write(out, assigned, manifest)
        split = self.load(out)
        report = _report(split, out, reused=False, excluded=excluded, skipped=skipped,
                         layout=layout.describe(data_dir))  # fmt: skip
        if self.leaks is not None and options.check_leaks:
            report.leaks = self.leaks.find(split.files, root=Path(split.data_dir))
        return report

    def load(self, splits_dir: Path | None = None) -> DatasetSplit:
        """The split saved in `splits_dir` (default SPLITS_DIR)."""
        out = Path(splits_dir or self.splits_dir)
        try:
            manifest = self.documents.read(out / MANIFEST_FILE)
            classes = self.documents.read(out / CLASS_FILE)
            files = {name: self._read_files(out, name) for name in SPLIT_NAMES}
        except FileNotFoundError:
            raise NotFound(f"no split in {out}: run `split DATA_DIR` first") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"the split in {out} is damaged ({exc}): run `split --force`"
            ) from None
        ordered = sorted(classes, key=classes.__getitem__)
        return DatasetSplit(manifest["data_dir"], ordered, files, int(manifest.get("seed", 0)))

    def _reuse(self, out: Path, data_dir: Path) -> SplitReport:
        split = self.load(out)
        if Path(split.data_dir) != data_dir:
            raise ConfigError(
                f"{out} holds a split of {split.data_dir}, not {data_dir}: "
                "use --force to replace it, or set another SPLITS_DIR"
            )
        manifest = self.documents.read(out / MANIFEST_FILE)
        excluded = [ExcludedGroup(**e) for e in manifest.get("excluded", [])]
        skipped = [SkippedFile(**s) for s in manifest.get("skipped", [])]
        layout = str(manifest.get("layout_note", ""))
        return _report(split, out, reused=True, excluded=excluded, skipped=skipped, layout=layout)

    def _saved_kind(self, out: Path) -> str | None:
        """The layout kind of the split saved in `out`; None when there is none (or damaged)."""
        try:
            return saved_kind(self.documents.read(out / MANIFEST_FILE))
        except (OSError, ValueError, AttributeError):
            return None

    def _read_files(self, out: Path, name: str) -> list[str]:
        """Paths of one split; splits written before `_files.json` kept them in `_ids.json`."""
        path = out / files_file(name)
        if not self.documents.exists(path):
            path = out / split_file(name)
        return self.documents.read(path)

    def _write(self, out: Path, assigned: dict[str, list[_Image]], manifest: dict) -> None:
        classes = sorted({i.class_name for images in assigned.values() for i in images})
        write = self.documents.write
        self.documents.remove(out / MANIFEST_FILE)  # a half-written split is never reused
        for name, images in assigned.items():
            write(out / split_file(name), sorted({i.group for i in images}))
            write(out / files_file(name), sorted(i.rel for i in images))
        write(out / CLASS_FILE, {name: i for i, name in enumerate(classes)})
        write(out / MANIFEST_FILE, manifest)

    def _scan(self, data_dir: Path, layout: Layout) -> tuple[list[_Image], list[SkippedFile]]:
        if layout.folders:
            tops = [data_dir / folder for folder in layout.folders.values()]
        else:
            tops = sorted(p for p in data_dir.iterdir() if p.is_dir())
        paths = [path for folder in tops for path in iter_image_files(folder)]
        bar = self.progress(total=len(paths), desc="reading image sizes")
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = []
                for result in pool.map(self.image_size, paths):
                    results.append(result)
                    bar.update(1)
        finally:
            bar.close()
        images, skipped = [], []
        for path, result in zip(paths, results, strict=True):
            if isinstance(result, SkippedFile):
                skipped.append(result)
                continue
            rel = path.relative_to(data_dir).as_posix()
            images.append(_Image(rel, PurePath(rel).parent.name, group_of(rel), result))
        return images, skipped


def _exclude_small_groups(
    images: list[_Image], options: SplitOptions
) -> tuple[list[_Image], list[ExcludedGroup]]:
    """Drop every group holding an image narrower or lower than the minimum."""
    small: dict[str, _Image] = {}
    for image in images:
        width, height = image.size
        if (width < options.min_width or height < options.min_height) and image.group not in small:
            small[image.group] = image
    sizes = Counter(image.group for image in images)
    excluded = [
        ExcludedGroup(
            group,
            image.class_name,
            sizes[group],
            f"{image.rel} is {image.size[0]}x{image.size[1]}, "
            f"below {options.min_width}x{options.min_height}",
        )
        for group, image in sorted(small.items())
    ]
    return [image for image in images if image.group not in small], excluded


def _assign(images: list[_Image], options: SplitOptions, layout: Layout) -> dict[str, list[_Image]]:
    """Images per split: the tree's own folders, or by group (val carved from train)."""
    if not layout.folders:
        return _assign_groups(images, options.fractions, options.seed)
    out: dict[str, list[_Image]] = {name: [] for name in SPLIT_NAMES}
    for image in images:
        out[split_of(image.rel, layout) or "train"].append(image)
    if layout.carve_val:
        val = options.fractions.val
        fractions = SplitFractions(1.0 - val, val, 0.0)
        carved = _assign_groups(out["train"], fractions, options.seed)
        out["train"], out["val"] = carved["train"], carved["val"]
    return out


def _assign_groups(
    images: list[_Image], fractions: SplitFractions, seed: int
) -> dict[str, list[_Image]]:
    """Images per split; each group's class is its majority class."""
    by_group: dict[str, list[_Image]] = defaultdict(list)
    for image in images:
        by_group[image.group].append(image)
    groups = sorted(by_group)
    classes = sorted({image.class_name for image in images})
    index = {name: i for i, name in enumerate(classes)}
    majority = [
        index[Counter(i.class_name for i in by_group[g]).most_common(1)[0][0]] for g in groups
    ]
    chosen = assign_groups(majority, [len(by_group[g]) for g in groups], fractions, seed)
    out: dict[str, list[_Image]] = {name: [] for name in SPLIT_NAMES}
    for group, split in zip(groups, chosen.tolist(), strict=True):
        out[SPLIT_NAMES[split]] += by_group[group]
    return out


def _manifest(
    data_dir: Path,
    assigned: dict[str, list[_Image]],
    options: SplitOptions,
    layout: Layout,
    *,
    excluded: list[ExcludedGroup],
    skipped: list[SkippedFile],
) -> dict:
    f = options.fractions
    return {
        "data_dir": str(data_dir),
        "seed": options.seed,
        "fractions": {"train": f.train, "val": f.val, "test": f.test},
        "min_size": [options.min_width, options.min_height],
        "layout": layout.as_dict(),
        "layout_note": layout.describe(data_dir),
        "groups": {n: len({i.group for i in images}) for n, images in assigned.items()},
        "excluded": [vars(e) for e in excluded],
        "skipped": [vars(s) for s in skipped],
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _report(
    split: DatasetSplit,
    out: Path,
    reused: bool,
    *,
    excluded: list[ExcludedGroup],
    skipped: list[SkippedFile],
    layout: str = "",
) -> SplitReport:
    counts = {
        name: dict(sorted(Counter(PurePath(rel).parent.name for rel in rels).items()))
        for name, rels in split.files.items()
    }
    groups = {name: len({group_of(rel) for rel in rels}) for name, rels in split.files.items()}
    return SplitReport(
        split.data_dir, str(out), split.seed, reused, counts, groups, excluded, skipped, layout
    )

"""Which device holds a path, how much room it has, and one clear message when it is full.

    no space left on device /dev/vdb (mounted at /srv/data, 12 KB free) writing
    data/index/index-000004.bin: free some space and run it again

Writers check free space first where that is cheap (`ensure_room`); a write that still runs out
(errno ENOSPC / EDQUOT, SQLite "database or disk is full", PostgreSQL 53100) is reported with
`no_space_message` by the adapter or front door that sees it. Like atomic_files, this module is
the bottom layer: it imports nothing of ours, and a full disk stays an OSError (ENOSPC) carrying
the path until a front door or adapter turns it into one line.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
ROOM_MARGIN = 1 << 20  # keep this much free beyond what a write needs (metadata, journals)


def is_no_space(exc: BaseException) -> bool:
    """True for a full disk or quota, whichever library reported it."""
    if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
        return True
    if getattr(exc, "sqlstate", None) == "53100":  # PostgreSQL disk_full
        return True
    text = str(exc).lower()
    return "database or disk is full" in text or "no space left on device" in text


def mount_of(path: str | Path) -> tuple[str, str]:
    """(device, mount point) of the file system that holds `path` (or would hold it)."""
    target = os.path.realpath(_existing_ancestor(Path(path)))
    best = ("unknown device", "/")
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return best
    for line in lines:
        fields = line.split()
        if len(fields) < 2:
            continue
        device, mount = (_unescape(f) for f in fields[:2])
        inside = target == mount or target.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(best[1]):
            best = (device, mount)
    return best


def free_bytes(path: str | Path) -> int:
    return shutil.disk_usage(_existing_ancestor(Path(path))).free


def no_space_message(path: str | Path | None) -> str:
    """One line naming the device, its mount point, what is free and the path being written."""
    where = Path(path) if path else Path.cwd()
    device, mount = mount_of(where)
    try:
        free = f", {_size(free_bytes(where))} free"
    except OSError:
        free = ""
    writing = f" writing {path}" if path else ""
    return (
        f"no space left on device {device} (mounted at {mount}{free}){writing}: "
        "free some space and run it again"
    )


def ensure_room(path: str | Path, needed: int) -> None:
    """OSError(ENOSPC) naming `path` before anything is written when `needed` bytes (plus a
    margin) will not fit."""
    try:
        free = free_bytes(path)
    except OSError:  # cannot tell: let the write itself find out
        return
    if needed + ROOM_MARGIN > free:
        raise OSError(errno.ENOSPC, f"No space left on device (needs {_size(needed)})", str(path))


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _unescape(field: str) -> str:
    """/proc/self/mounts writes spaces, tabs, newlines and backslashes as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    scaled, units = n / 1024, ["KB", "MB", "GB"]
    while scaled >= 1024 and len(units) > 1:
        scaled, units = scaled / 1024, units[1:]
    return f"{scaled:.1f} {units[0]}"

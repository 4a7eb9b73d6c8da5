"""
UPLOAD_DIR itself: can this process write there, and which mount holds it.

probe() proves that a file can be written there; the system checks, /readyz
and `manage.py check_uploads` all call it.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages

from webinars import files


@dataclass(frozen=True)
class UploadDirProbe:
    """What happened when a file was written to UPLOAD_DIR and deleted."""

    path: str
    problem: str = ""  # "", "not_a_directory", "cannot_create" or "not_writable"
    reason: str = ""  # the operating system's words: "Permission denied"
    errno: int = 0
    created: bool = False  # UPLOAD_DIR was missing and has been created

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str


def stores_locally() -> bool:
    """Return whether uploads are files on this machine's filesystems."""
    return isinstance(storages["default"], FileSystemStorage)


def probe() -> UploadDirProbe:
    """Create UPLOAD_DIR when missing, then write a file in it and delete it."""
    root = Path(settings.MEDIA_ROOT)
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return UploadDirProbe(str(root), "not_a_directory", "Not a directory")
    except OSError as exc:
        return UploadDirProbe(str(root), "cannot_create", *_reason(exc))
    # The upload directories that exist already (a copied volume may have
    # them owned by someone else) must take a file as well as the root.
    existing = [root / name for name in files.served_directories()]
    for directory in [root, *(d for d in existing if d.is_dir())]:
        try:
            # Hidden, so never served even if it were left behind.
            with tempfile.NamedTemporaryFile(
                dir=directory, prefix=".write-check-"
            ) as f:
                f.write(b"ok")
                f.flush()
        except OSError as exc:
            return UploadDirProbe(
                str(directory), "not_writable", *_reason(exc), created
            )
    return UploadDirProbe(str(root), created=created)


def nearest_existing(path: str | os.PathLike) -> Path:
    """Return path, or its closest ancestor that exists."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def upload_dir_mount() -> Mount | None:
    """Return the mount that holds UPLOAD_DIR, or None off Linux."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return None
    return mount_holding(settings.MEDIA_ROOT, mountinfo)


def mount_holding(path: str | os.PathLike, mountinfo: str) -> Mount | None:
    """Return the mount in a /proc/<pid>/mountinfo text that holds path."""
    path = os.path.realpath(path)
    holding = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue
        # Spaces and backslashes in mount points are octal escapes (\040).
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])
        fstype = fields[fields.index("-", 6) + 1]
        inside = os.path.commonpath([point, path]) == point
        # Later lines are mounted on top of earlier ones at the same point.
        if inside and (holding is None or len(point) >= len(holding.point)):
            holding = Mount(point, fstype)
    return holding


def _reason(exc: OSError) -> tuple[str, int]:
    return exc.strerror or str(exc), exc.errno or 0

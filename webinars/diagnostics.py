"""
UPLOAD_DIR itself: can this process write there, and which mount holds it.

probe() proves that a file can be written there, through the upload storage
(which creates a missing UPLOAD_DIR as it would for an upload); /readyz and
`manage.py check_uploads` call it. The system checks only inspect
(webinars.checks).
"""

from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

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
class BucketProbe:
    """What happened when an object was written to the upload bucket and deleted."""

    fault: files.StorageFault | None = None
    versioning: str | None = None  # "Enabled", "Suspended", "Off"; None: unknown

    @property
    def ok(self) -> bool:
        return self.fault is None


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str


def probe() -> UploadDirProbe:
    """Write a file to UPLOAD_DIR and delete it, creating UPLOAD_DIR if missing."""
    root = Path(settings.MEDIA_ROOT)
    if root.exists() and not root.is_dir():
        return UploadDirProbe(str(root), "not_a_directory", "Not a directory")
    created = not root.exists()
    try:
        files.write_probe("")
    except FileExistsError:  # a file where a parent directory should be
        return UploadDirProbe(str(root), "cannot_create", "Not a directory")
    except OSError as exc:
        problem = "cannot_create" if created else "not_writable"
        return UploadDirProbe(str(root), problem, *_reason(exc))
    # The upload directories that exist already (a copied volume may have
    # them owned by someone else) must take a file as well as the root.
    for directory in sorted(files.SERVED_DIRECTORIES):
        if not (root / directory).is_dir():
            continue
        try:
            files.write_probe(directory)
        except OSError as exc:
            return UploadDirProbe(
                str(root / directory), "not_writable", *_reason(exc), created
            )
    return UploadDirProbe(str(root), created=created)


def probe_bucket(*, versioning: bool = True) -> BucketProbe:
    """Write a probe object to the upload storage, delete it, read versioning."""
    try:
        files.write_probe("")
    except OSError as exc:
        return BucketProbe(fault=files.storage_fault(exc))
    versioning = versioning and getattr(files.photo_storage(), "versioning", None)
    try:
        return BucketProbe(versioning=versioning() if versioning else None)
    except OSError:  # may write but not read the bucket's settings
        return BucketProbe()


def bucket_description() -> dict[str, str]:
    """Return the upload bucket's name, endpoint and prefix, as configured."""
    storage = files.photo_storage()
    described = {
        "Bucket": getattr(storage, "bucket_name", None)
        or getattr(storage, "azure_container", None),
        "Endpoint": getattr(storage, "endpoint_url", None) or "the provider's own",
        "Region": getattr(storage, "region_name", None),
        "Key prefix": getattr(storage, "location", None),
        "CDN domain": getattr(storage, "custom_domain", None),
    }
    return {label: str(value) for label, value in described.items() if value}


def inspect() -> UploadDirProbe:
    """Say whether UPLOAD_DIR could take a file, from its permissions; write nothing."""
    root = Path(settings.MEDIA_ROOT)
    if root.exists() and not root.is_dir():
        return UploadDirProbe(str(root), "not_a_directory", "Not a directory")
    if not root.exists():
        parent = nearest_existing(root)
        if not parent.is_dir():
            return UploadDirProbe(str(root), "cannot_create", "Not a directory")
        denied = _write_denied(parent)
        return (
            UploadDirProbe(str(root), "cannot_create", *denied)
            if denied
            else (UploadDirProbe(str(root)))
        )
    directories = [root] + [root / name for name in sorted(files.SERVED_DIRECTORIES)]
    for directory in directories:
        denied = directory.is_dir() and _write_denied(directory)
        if denied:
            return UploadDirProbe(str(directory), "not_writable", *denied)
    return UploadDirProbe(str(root))


def _write_denied(directory: Path) -> tuple[str, int] | None:
    """Return why this process may not create files in directory, or None."""
    if os.access(directory, os.W_OK | os.X_OK):
        return None
    if os.statvfs(directory).f_flag & os.ST_RDONLY:
        return os.strerror(errno.EROFS), errno.EROFS
    return os.strerror(errno.EACCES), errno.EACCES


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
    holding = None
    for line in mountinfo.splitlines():
        fields = line.split(" ")
        if "-" not in fields[6:]:
            continue
        # Spaces and backslashes in mount points are octal escapes (\040).
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), fields[4])
        fstype = fields[fields.index("-", 6) + 1]
        inside = files.is_within(point, path)
        # Later lines are mounted on top of earlier ones at the same point.
        if inside and (holding is None or len(point) >= len(holding.point)):
            holding = Mount(point, fstype)
    return holding


def _reason(exc: OSError) -> tuple[str, int]:
    return exc.strerror or str(exc), exc.errno or 0

"""
The one place that knows how uploads are stored and served.

Uploads live in the default storage: FileSystemStorage at MEDIA_ROOT, which
settings resolve from UPLOAD_DIR. Whatever UPLOAD_DIR is, they are served at
MEDIA_URL (/static/uploads/) by serve() below, under runserver and gunicorn
alike, with the validators and headers a production file server sends.

probe_upload_dir() proves that a file can be written there; the system checks,
/readyz and `manage.py check_uploads` all call it.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

logger = logging.getLogger(__name__)

# Sent inline; anything else that ends up in UPLOAD_DIR is a download.
INLINE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

UPLOAD_HEADERS = {
    # A stored file is never a page: no scripts, no plugins, no sniffing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-site",
    # Names are not yet content-addressed, so revalidate every time; the
    # ETag makes that a cheap 304.
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True)
class StoredFile:
    name: str
    file: IO[bytes]
    size: int
    modified: int | None  # whole seconds, as HTTP dates have

    @property
    def etag(self) -> str:
        return quote_etag(f"{self.modified or 0:x}-{self.size:x}")


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


def probe_upload_dir() -> UploadDirProbe:
    """Create UPLOAD_DIR when missing, then write a file in it and delete it."""
    root = Path(settings.MEDIA_ROOT)
    created = not root.exists()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return UploadDirProbe(str(root), "not_a_directory", "Not a directory")
    except OSError as exc:
        return UploadDirProbe(str(root), "cannot_create", *_reason(exc))
    try:
        # Hidden, so never served even if it were left behind.
        with tempfile.NamedTemporaryFile(dir=root, prefix=".write-check-") as file:
            file.write(b"ok")
            file.flush()
    except OSError as exc:
        return UploadDirProbe(str(root), "not_writable", *_reason(exc), created)
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


def is_inside_upload_dir(path: str | os.PathLike) -> bool:
    """Return whether path, with symlinks resolved, lies in UPLOAD_DIR."""
    root = os.path.realpath(settings.MEDIA_ROOT)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def serve(request: HttpRequest, path: str) -> HttpResponse:
    """Answer a GET or HEAD for the upload at path below MEDIA_URL."""
    stored = open_stored_file(storage_name(path))
    not_modified = get_conditional_response(
        request, etag=stored.etag, last_modified=stored.modified
    )
    if not_modified is not None:
        stored.file.close()
        return _with_headers(not_modified, stored)
    content_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
    if request.method == "HEAD":
        stored.file.close()
        response = HttpResponse(content_type=content_type)
    else:
        response = FileResponse(
            stored.file,
            content_type=content_type,
            as_attachment=content_type not in INLINE_CONTENT_TYPES,
            filename=os.path.basename(stored.name),
        )
    response["Content-Length"] = stored.size
    return _with_headers(response, stored)


def storage_name(path: str) -> str:
    """Return the storage name for a URL path, or raise Http404 if it may escape."""
    segments = path.split("/")
    if (
        "\x00" in path
        or "\\" in path
        or any(
            not part or part in (".", "..") or part.startswith(".") for part in segments
        )
    ):
        raise Http404("No such upload.")
    return path


def open_stored_file(name: str) -> StoredFile:
    """Open a regular file in the upload storage, or raise Http404."""
    try:
        file = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("No such upload.") from exc
    except (OSError, SuspiciousFileOperation) as exc:
        logger.warning("Upload %r cannot be opened: %s", name, exc)
        raise Http404("No such upload.") from exc
    if isinstance(default_storage, FileSystemStorage):
        return _local_stored_file(name, file)
    return StoredFile(name, file, file.size, _modified_time(name))


def _local_stored_file(name: str, file: IO[bytes]) -> StoredFile:
    # A symlink may point anywhere; only regular files inside UPLOAD_DIR are served.
    info = os.fstat(file.fileno())
    if not stat.S_ISREG(info.st_mode) or not is_inside_upload_dir(file.name):
        file.close()
        raise Http404("No such upload.")
    return StoredFile(name, file, info.st_size, int(info.st_mtime))


def _modified_time(name: str) -> int | None:
    try:
        return int(default_storage.get_modified_time(name).timestamp())
    except NotImplementedError:
        return None


def _with_headers(response: HttpResponse, stored: StoredFile) -> HttpResponse:
    response["ETag"] = stored.etag
    if stored.modified is not None:
        response["Last-Modified"] = http_date(stored.modified)
    for header, value in UPLOAD_HEADERS.items():
        response[header] = value
    return response

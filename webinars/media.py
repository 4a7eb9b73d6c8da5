"""
The one place that knows how upload files are named, written, deleted and served.

Uploads live in the default storage: UploadStorage at MEDIA_ROOT, which
settings resolve from UPLOAD_DIR. A photo is photos/<uuid>.<ext>, with square
thumbnails in photos/thumbs/<uuid>-<size>.webp. Whatever UPLOAD_DIR is, they
are served at MEDIA_URL (/static/uploads/) by serve() below, under runserver
and gunicorn alike, with the validators and headers a production file server
sends.
"""

from __future__ import annotations

import errno
import logging
import mimetypes
import os
import re
import stat
import uuid
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from typing import IO

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, quote_etag

from webinars.storage import UploadStorage

logger = logging.getLogger(__name__)

# Sent inline; anything else that ends up in UPLOAD_DIR is a download.
INLINE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

UPLOAD_HEADERS = {
    # A stored file is never a page: no scripts, no plugins, no sniffing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-site",
}
# Generated names (a fresh UUID for every upload) never change content, so
# browsers may keep them for a year; any other name is revalidated, cheaply,
# with its ETag.
# Thumbnails keep their photo's name when rebuilt, so they are revalidated.
GENERATED_NAME = re.compile(r"[^/]+/[0-9a-f]{32}\.[a-z]+")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
THUMBNAIL_DIRECTORY = "thumbs"


@dataclass(frozen=True)
class StoredFile:
    name: str
    file: IO[bytes]
    size: int
    modified: int | None  # whole seconds, as HTTP dates have

    @property
    def etag(self) -> str | None:
        if self.modified is None:
            return None  # size alone would give two files one validator
        return quote_etag(f"{self.modified:x}-{self.size:x}")


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
    directory, _, rest = path.partition("/")
    if (
        directory not in served_directories()
        or "\x00" in path
        or "\\" in path
        or any(not part or part.startswith(".") for part in path.split("/"))
        or not rest
    ):
        raise Http404("No such upload.")
    return path


def served_directories() -> frozenset[str]:
    """The upload_to directories of the models: nothing else in UPLOAD_DIR is served."""
    return frozenset({photo_directory()})


def open_stored_file(name: str) -> StoredFile:
    """Open a regular file in the upload storage, or raise Http404."""
    if isinstance(default_storage, FileSystemStorage):
        return _open_local_file(name)
    try:
        file = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("No such upload.") from exc
    return StoredFile(name, file, file.size, _modified_time(name))


# Failures anyone can cause with a URL: answered 404 without a log line.
QUIET_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP}
)


def _open_local_file(name: str) -> StoredFile:
    # Resolve symlinks first and serve only regular files inside UPLOAD_DIR;
    # stat before opening, so a FIFO never blocks a worker, and make sure the
    # file opened is the one checked.
    try:
        path = os.path.realpath(default_storage.path(name))
    except SuspiciousFileOperation as exc:
        raise Http404("No such upload.") from exc
    try:
        checked = os.stat(path)
        if not is_inside_upload_dir(path) or not stat.S_ISREG(checked.st_mode):
            raise Http404("No such upload.")
        file = open(path, "rb")  # noqa: SIM115 (closed by the response)
    except OSError as exc:
        if exc.errno not in QUIET_ERRNOS:
            logger.warning("Upload %r cannot be opened: %s", name, exc)
        raise Http404("No such upload.") from exc
    opened = os.fstat(file.fileno())
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
        file.close()
        raise Http404("No such upload.")
    return StoredFile(name, file, opened.st_size, int(opened.st_mtime))


def _modified_time(name: str) -> int | None:
    try:
        return int(default_storage.get_modified_time(name).timestamp())
    except NotImplementedError:
        return None


def _with_headers(response: HttpResponse, stored: StoredFile) -> HttpResponse:
    if stored.etag:
        response["ETag"] = stored.etag
    if stored.modified is not None:
        response["Last-Modified"] = http_date(stored.modified)
    for header, value in UPLOAD_HEADERS.items():
        response[header] = value
    immutable = GENERATED_NAME.fullmatch(stored.name)
    response["Cache-Control"] = IMMUTABLE if immutable else REVALIDATE
    return response


# Writing and deleting photos


class StorageFault(Exception):
    """The upload storage refused a write; the message is for the user."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.message = message
        self.status = status


STORAGE_FAULTS = {
    errno.ENOSPC: ("the upload volume is full", HTTPStatus.INSUFFICIENT_STORAGE),
    errno.EDQUOT: ("the upload volume is full", HTTPStatus.INSUFFICIENT_STORAGE),
    errno.EROFS: ("the upload volume is read-only", HTTPStatus.SERVICE_UNAVAILABLE),
    errno.EACCES: (
        "the server may not write to the upload directory",
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
    errno.EPERM: (
        "the server may not write to the upload directory",
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
}


def storage_fault(exc: OSError) -> StorageFault:
    reason, status = STORAGE_FAULTS.get(
        exc.errno, ("the upload storage failed", HTTPStatus.SERVICE_UNAVAILABLE)
    )
    return StorageFault(
        f"The photo was not saved because {reason}. Any previous photo is "
        "unchanged; please tell an administrator.",
        status,
    )


def photo_directory() -> str:
    from webinars.models import Registrant

    return Registrant._meta.get_field("photo").upload_to


def thumbnail_name(photo_name: str, size: str) -> str:
    directory, _, file_name = photo_name.rpartition("/")
    stem = file_name.rsplit(".", 1)[0]
    return f"{directory}/{THUMBNAIL_DIRECTORY}/{stem}-{size}.webp"


def thumbnail_url(photo_name: str, size: str) -> str:
    return default_storage.url(thumbnail_name(photo_name, size))


def file_names(photo_name: str) -> list[str]:
    """A stored photo and all its thumbnails."""
    from webinars.images import THUMBNAIL_EDGES

    return [photo_name, *(thumbnail_name(photo_name, size) for size in THUMBNAIL_EDGES)]


def store_photo(photo) -> str:
    """Write a PreparedPhoto and its thumbnails under a new name; return the name."""
    name = f"{photo_directory()}/{uuid.uuid4().hex}.{photo.extension}"
    _write_all({name: photo.content} | _thumbnail_files(name, photo.thumbnails))
    return name


def store_thumbnails(photo_name: str, thumbnails: dict[str, bytes]) -> None:
    """Write, or rewrite in place, the thumbnails of a stored photo."""
    _write_all(_thumbnail_files(photo_name, thumbnails), replace=True)


def _thumbnail_files(photo_name: str, thumbnails: dict[str, bytes]) -> dict[str, bytes]:
    return {thumbnail_name(photo_name, size): data for size, data in thumbnails.items()}


def _write_all(files: dict[str, bytes], *, replace: bool = False) -> None:
    # All or nothing: what was written before a failure is removed again.
    written = []
    try:
        for name, content in files.items():
            written.append(_write(name, content, replace=replace))
    except OSError as exc:
        logger.error(
            "Upload files %s not stored in %s: %s",
            list(files),
            settings.MEDIA_ROOT,
            exc,
        )
        if not replace:
            for name in written:
                _delete_quietly(name)
        raise storage_fault(exc) from exc


def _write(name: str, content: bytes, *, replace: bool) -> str:
    if replace and isinstance(default_storage, UploadStorage):
        return default_storage.replace(name, ContentFile(content))
    if replace:
        default_storage.delete(name)
    saved = default_storage.save(name, ContentFile(content))
    if saved != name:  # a UUID name was taken: something is badly wrong
        _delete_quietly(saved)
        raise FileExistsError(errno.EEXIST, "Upload name already taken", name)
    return saved


def delete_photo_files(photo_name: str) -> None:
    """Delete a photo and its thumbnails, unless a registrant still refers to it."""
    from webinars.models import Registrant

    if not photo_name or Registrant.objects.filter(photo=photo_name).exists():
        return
    for name in file_names(photo_name):
        _delete_quietly(name)


def delete_unsaved_photo(photo_name: str) -> None:
    """Delete a photo just written that no row can refer to (its save failed)."""
    for name in file_names(photo_name):
        _delete_quietly(name)


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except OSError as exc:
        logger.warning("Upload %r could not be deleted: %s", name, exc)


def read_file(name: str) -> bytes:
    with default_storage.open(name, "rb") as file:
        return file.read()


def stored_files() -> list[str]:
    """Every file in the upload directories, temporary ones included."""
    names, pending = [], sorted(served_directories())
    while pending:
        directory = pending.pop()
        try:
            directories, files = default_storage.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        names += [f"{directory}/{name}" for name in files]
        pending += [f"{directory}/{name}" for name in directories]
    return sorted(names)


def stored_photos() -> list[str]:
    """The photos in the upload directories: no thumbnails, no hidden files."""
    return [
        name
        for name in stored_files()
        if THUMBNAIL_DIRECTORY not in name.split("/")
        and not name.rpartition("/")[2].startswith(".")
    ]


def file_size(name: str) -> int:
    return default_storage.size(name)


def file_age_seconds(name: str) -> float:
    modified = default_storage.get_modified_time(name)
    return (datetime.now(tz=modified.tzinfo) - modified).total_seconds()


def delete_file(name: str) -> None:
    default_storage.delete(name)

"""
Serving uploads at MEDIA_URL (/static/uploads/), whatever UPLOAD_DIR or
STORAGE_BACKEND is, under runserver and gunicorn alike, with the validators
and headers a production file server sends.

From the local disk the file is streamed. From a bucket the answer is a 302
to a short-lived signed URL (or the CDN), with no request to the bucket; with
MEDIA_PROXY=true the object is streamed through one GET that carries the
client's conditions (If-None-Match, If-Modified-Since, Range).
"""

from __future__ import annotations

import errno
import logging
import mimetypes
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import IO

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, parse_http_date_safe, quote_etag
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from webinars import files, services
from webinars.views.errors import error_response

logger = logging.getLogger(__name__)

# Sent inline; anything else that ends up in UPLOAD_DIR is a download.
INLINE_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

UPLOAD_HEADERS = {
    # A stored file is never a page: no scripts, no plugins, no sniffing.
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-site",
}


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


# Read-only: nothing to protect from cross-site requests, and a POST should
# get 405 rather than a CSRF failure page.
@csrf_exempt
@require_safe
def serve(request: HttpRequest, path: str) -> HttpResponse:
    """Answer a GET or HEAD for the upload at path below MEDIA_URL."""
    name = storage_name(path)
    if name in services.withheld_names():  # deleted, but the volume kept it
        raise Http404("No such upload.")
    storage = files.storage_for(name)
    direct_url = getattr(storage, "direct_url", None)
    if direct_url and not settings.MEDIA_PROXY:
        return _redirect(direct_url(name))
    if hasattr(storage, "fetch"):
        return _proxy(request, storage, name)
    stored = open_stored_file(name)
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


def serve_kept(request: HttpRequest, name: str) -> HttpResponse:
    """Answer with a kept file outside the served directories, for staff only."""
    if files.is_local_storage():
        stored = _open_local_file(name)
    else:
        try:
            file = files.storage_for(name).open(name, "rb")
        except FileNotFoundError as exc:
            raise Http404("No such photo version.") from exc
        stored = StoredFile(name, file, file.size, None)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(
        stored.file,
        content_type=content_type,
        as_attachment=content_type not in INLINE_CONTENT_TYPES,
        filename=os.path.basename(name),
    )
    response["Content-Length"] = stored.size
    for header, value in UPLOAD_HEADERS.items():
        response[header] = value
    # Behind the role check on every request: never kept by any cache.
    response["Cache-Control"] = "private, no-store"
    return response


def storage_name(path: str) -> str:
    """Return the storage name for a URL path, or raise Http404 if it may escape."""
    if not is_servable_name(path):
        raise Http404("No such upload.")
    return path


def is_servable_name(path: str) -> bool:
    """Return whether a URL path below MEDIA_URL names a file that may be served."""
    directory, _, rest = path.partition("/")
    return not (
        directory not in files.SERVED_DIRECTORIES
        or "\x00" in path
        or "\\" in path
        or any(not part or part.startswith(".") for part in path.split("/"))
        or not rest
    )


def open_stored_file(name: str) -> StoredFile:
    """Open a regular file in the upload storage, or raise Http404."""
    if files.is_local_storage():
        return _open_local_file(name)
    try:
        file = files.storage_for(name).open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("No such upload.") from exc
    return StoredFile(name, file, file.size, _modified_time(name))


# Failures anyone can cause with a URL: answered 404 without a log line.
QUIET_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.ELOOP}
)


def _open_local_file(name: str) -> StoredFile:
    # Serve only what the app writes: a regular file with one link, reached
    # from UPLOAD_DIR through no symlink (UPLOAD_DIR itself may be one). Stat
    # before opening, so a FIFO never blocks a worker, and make sure the file
    # opened is the one checked.
    try:
        path = files.storage_for(name).path(name)
    except SuspiciousFileOperation as exc:
        raise Http404("No such upload.") from exc
    root = os.path.realpath(files.storage_for(name).path(""))
    if os.path.realpath(path) != os.path.join(root, *name.split("/")):
        raise Http404("No such upload.")  # a symlink on the way
    try:
        checked = os.lstat(path)
        if not _is_app_file(checked):
            raise Http404("No such upload.")
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno not in QUIET_ERRNOS:
            logger.warning("Upload %r cannot be opened: %s", name, exc)
        raise Http404("No such upload.") from exc
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
        os.close(fd)
        raise Http404("No such upload.")
    file = os.fdopen(fd, "rb")
    return StoredFile(name, file, opened.st_size, int(opened.st_mtime))


def _is_app_file(info: os.stat_result) -> bool:
    """A regular file with no other name: a hard link could be anything's."""
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


def _modified_time(name: str) -> int | None:
    try:
        return int(files.storage_for(name).get_modified_time(name).timestamp())
    except NotImplementedError:
        return None


def _with_headers(response: HttpResponse, stored: StoredFile) -> HttpResponse:
    if stored.etag:
        response["ETag"] = stored.etag
    if stored.modified is not None:
        response["Last-Modified"] = http_date(stored.modified)
    for header, value in UPLOAD_HEADERS.items():
        response[header] = value
    response["Cache-Control"] = files.cache_control_for(stored.name)
    return response


def _redirect(url: str) -> HttpResponse:
    # 302, never 301: the target changes (signatures expire, backends move).
    response = HttpResponseRedirect(url)
    # A browser may reuse the redirect until shortly before the URL expires.
    response["Cache-Control"] = (
        f"private, max-age={max(settings.MEDIA_URL_EXPIRY - 60, 0)}"
    )
    return response


def _proxy(request: HttpRequest, storage, name: str) -> HttpResponse:
    """Stream an object from its bucket: one request, the client's conditions."""
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    try:
        fetched = storage.fetch(
            name,
            if_none_match=request.headers.get("If-None-Match"),
            if_modified_since=datetime.fromtimestamp(since, UTC) if since else None,
            byte_range=request.headers.get("Range")
            if request.method == "GET"
            else None,
        )
    except FileNotFoundError as exc:
        raise Http404("No such upload.") from exc
    except OSError as exc:
        logger.warning("Upload %r cannot be read from its bucket: %s", name, exc)
        response = error_response(
            request,
            "503.html",
            "The photo storage cannot be reached right now. Please try again.",
            HTTPStatus.SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = "30"
        return response
    if fetched.status == HTTPStatus.NOT_MODIFIED:
        response = HttpResponseNotModified()
    else:
        content_type = (
            fetched.content_type
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        if request.method == "HEAD":
            response = HttpResponse(content_type=content_type)
        else:
            response = StreamingHttpResponse(
                fetched.body, status=fetched.status, content_type=content_type
            )
        if fetched.length is not None:
            response["Content-Length"] = fetched.length
        if fetched.content_range:
            response["Content-Range"] = fetched.content_range
        response["Accept-Ranges"] = "bytes"
        if content_type not in INLINE_CONTENT_TYPES:
            response["Content-Disposition"] = (
                f'attachment; filename="{os.path.basename(name)}"'
            )
    if fetched.etag:
        response["ETag"] = fetched.etag
    if fetched.last_modified:
        response["Last-Modified"] = http_date(fetched.last_modified.timestamp())
    for header, value in UPLOAD_HEADERS.items():
        response[header] = value
    response["Cache-Control"] = files.cache_control_for(name)
    return response

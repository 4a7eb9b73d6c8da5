"""
Uploads on the local disk answered at static-file speed, from a middleware
listed right after whitenoise's: no session, CSRF, auth or URL resolving.

The same rules as webinars.views.media: only a regular file with one link,
reached from UPLOAD_DIR through no symlink, with the same validators and
headers. Every directory on the way is opened with O_NOFOLLOW relative to a
handle on UPLOAD_DIR (resolved once), a 304 is answered from stat without
opening the file, and a single byte range is answered 206. With
MEDIA_ACCEL_REDIRECT (nginx) or MEDIA_SENDFILE (Apache, lighttpd) the proxy
sends the bytes once every check has passed. Buckets, and methods other than
GET and HEAD, go on to webinars.views.media.serve.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import re
import stat
import threading
from http import HTTPStatus

from django.conf import settings
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
)
from django.utils.cache import get_conditional_response
from django.utils.http import (
    content_disposition_header,
    http_date,
    parse_etags,
    parse_http_date_safe,
)

from webinars import files, services
from webinars.views.media import (
    INLINE_CONTENT_TYPES,
    QUIET_ERRNOS,
    UPLOAD_HEADERS,
    is_servable_name,
    logger,
)

# photos/<uuid>[-private].<ext> and photos/thumbs/<uuid>[-private]-<size>.webp:
# every name the app writes, safe without further checks.
GENERATED_NAME = re.compile(
    rf"{files.PHOTO_DIRECTORY}/(?:{files.THUMBNAIL_DIRECTORY}/)?[0-9a-f]{{32}}"
    rf"(?:{files.PRIVATE_MARKER})?(?:-(?:{'|'.join(files.THUMBNAIL_EDGES)}))?"
    r"\.[a-z0-9]{3,4}"
)
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a FIFO that replaced the file after the stat never blocks.
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
RANGE = re.compile(r"bytes=(\d*)-(\d*)")
NOT_FOUND = b"No such upload."


class UploadFilesMiddleware:
    """Answer GET and HEAD below MEDIA_URL from the local disk, before sessions."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = settings.MEDIA_URL
        self.prefix_length = len(self.prefix)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if (
            not path.startswith(self.prefix)
            or request.method not in ("GET", "HEAD")
            or not files.is_local_storage()
        ):
            return self.get_response(request)
        return serve_local(request, path[self.prefix_length :])


def serve_local(request: HttpRequest, name: str) -> HttpResponse:
    """Answer a GET or HEAD for the upload called name on the local disk."""
    if not GENERATED_NAME.fullmatch(name) and not is_servable_name(name):
        return not_found()
    if name in services.withheld_names():  # deleted, but the volume kept it
        return not_found()
    found = _lookup(name)
    if found is None:
        return not_found()
    directory_fd, leaf, info = found
    try:
        return _answer(request, name, directory_fd, leaf, info)
    finally:
        if directory_fd != _root.fd:
            os.close(directory_fd)


def not_found() -> HttpResponse:
    """A plain 404 that costs nothing to render."""
    return HttpResponse(
        NOT_FOUND, status=HTTPStatus.NOT_FOUND, content_type="text/plain; charset=utf-8"
    )


class _Root:
    """A handle on UPLOAD_DIR, opened once per value of MEDIA_ROOT."""

    def __init__(self):
        self.location: str | None = None
        self.real: str = ""
        self.fd: int = -1
        self.lock = threading.Lock()

    def current(self) -> int:
        location = files.photo_storage().location
        if location != self.location or os.fstat(self.fd).st_nlink == 0:
            with self.lock:
                self._reopen(location)
        return self.fd

    def _reopen(self, location: str) -> None:
        old = self.fd
        # UPLOAD_DIR itself may be a symlink (a mounted volume's path).
        self.real = os.path.realpath(location)
        self.fd = os.open(self.real, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.location = location
        if old >= 0:
            os.close(old)


_root = _Root()


def _lookup(name: str) -> tuple[int, str, os.stat_result] | None:
    """Return (directory fd, file name, lstat) for name, or None for a 404."""
    *directories, leaf = name.split("/")
    try:
        fd = _root.current()
    except OSError as exc:
        logger.warning("UPLOAD_DIR cannot be opened: %s", exc)
        return None
    try:
        for directory in directories:
            parent, fd = fd, os.open(directory, DIRECTORY_FLAGS, dir_fd=fd)
            if parent != _root.fd:
                os.close(parent)
        info = os.stat(leaf, dir_fd=fd, follow_symlinks=False)
    except OSError as exc:
        if fd != _root.fd:
            os.close(fd)
        if exc.errno not in QUIET_ERRNOS:
            logger.warning("Upload %r cannot be opened: %s", name, exc)
        return None
    if not _is_app_file(info):
        if fd != _root.fd:
            os.close(fd)
        return None
    return fd, leaf, info


def _is_app_file(info: os.stat_result) -> bool:
    """A regular file with no other name: a hard link could be anything's."""
    return stat.S_ISREG(info.st_mode) and info.st_nlink == 1


def _answer(request, name, directory_fd, leaf, info) -> HttpResponse:
    modified, size = int(info.st_mtime), info.st_size
    etag = f'"{modified:x}-{size:x}"'
    headers = _headers_for(name)
    not_modified = _not_modified(request, etag, modified)
    if not_modified is not None:
        return _finish(not_modified, headers, etag, modified)
    if settings.MEDIA_ACCEL_REDIRECT or settings.MEDIA_SENDFILE:
        return _finish(_offloaded(name, headers), headers, etag, modified)
    span = _requested_range(request, etag, modified, size)
    if span == "unsatisfiable":
        response = HttpResponse(status=HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
        response["Content-Range"] = f"bytes */{size}"
        return _finish(response, headers, etag, modified)
    if request.method == "HEAD":
        response = HttpResponse(content_type=headers["Content-Type"])
        response["Content-Length"] = size
        return _finish(response, headers, etag, modified)
    file = _open(name, directory_fd, leaf, info)
    if file is None:
        return not_found()
    return _finish(_body(file, span, size), headers, etag, modified)


def _not_modified(request, etag: str, modified: int) -> HttpResponse | None:
    meta = request.META
    if "HTTP_IF_MATCH" in meta or "HTTP_IF_UNMODIFIED_SINCE" in meta:
        return get_conditional_response(request, etag=etag, last_modified=modified)
    if_none_match = meta.get("HTTP_IF_NONE_MATCH")
    if if_none_match == etag:  # what browsers send back: no parsing
        return HttpResponseNotModified()
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        matched = "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)
    else:
        since = parse_http_date_safe(meta.get("HTTP_IF_MODIFIED_SINCE", ""))
        matched = since is not None and modified <= since
    return HttpResponseNotModified() if matched else None


def _requested_range(request, etag, modified, size):
    """Return (first, last) of a single range, None for all, or "unsatisfiable"."""
    header = request.META.get("HTTP_RANGE")
    if not header or not _if_range_holds(request, etag, modified):
        return None
    match = RANGE.fullmatch(header.strip())
    if match is None:
        return None  # multiple ranges or nonsense: the whole file, as RFC 9110 lets
    first, last = match.groups()
    if not first:
        if not last:
            return None
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid, so ignored
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _if_range_holds(request, etag: str, modified: int) -> bool:
    validator = request.META.get("HTTP_IF_RANGE")
    if validator is None:
        return True
    # A strong ETag, or the exact Last-Modified date (RFC 9110, 13.1.5).
    return validator == etag or validator == _http_date(modified)


def _open(name, directory_fd, leaf, checked):
    try:
        fd = os.open(leaf, FILE_FLAGS, dir_fd=directory_fd)
    except OSError as exc:
        if exc.errno not in QUIET_ERRNOS:
            logger.warning("Upload %r cannot be opened: %s", name, exc)
        return None
    opened = os.fstat(fd)
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino) or (
        not _is_app_file(opened)
    ):
        os.close(fd)
        return None  # replaced between the stat and the open
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


class _UploadResponse(FileResponse):
    """A FileResponse whose headers are this module's, not guessed again."""

    def set_headers(self, filelike):
        pass


class _Span:
    """Part of an open file: reads stop at its end; sendfile() sends just it."""

    def __init__(self, file, length: int):
        self.file, self.left = file, length

    def fileno(self) -> int:
        return self.file.fileno()

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.file.read(size)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def _body(file, span, size: int) -> HttpResponse:
    if span is None:
        response = _UploadResponse(file)
        response["Content-Length"] = size
        return response
    first, last = span
    file.seek(first)  # gunicorn's sendfile() starts at the file's offset
    response = _UploadResponse(_Span(file, last - first + 1))
    response.status_code = HTTPStatus.PARTIAL_CONTENT
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Content-Length"] = last - first + 1
    return response


def _offloaded(name: str, headers: dict[str, str]) -> HttpResponse:
    """Have the proxy send the file: nginx's X-Accel-Redirect, or X-Sendfile."""
    response = HttpResponse(content_type=headers["Content-Type"])
    if settings.MEDIA_ACCEL_REDIRECT:
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT + name
    else:
        response["X-Sendfile"] = os.path.join(_root.real, name)
    return response


_HEADERS: dict[tuple[str, str], dict[str, str]] = {}


def _headers_for(name: str) -> dict[str, str]:
    """Return the constant headers of an upload, computed once per kind of name."""
    directory, _, file_name = name.rpartition("/")
    extension = file_name.rpartition(".")[2]
    key = (extension, files.cache_control_for(name))
    headers = _HEADERS.get(key)
    if headers is None:
        content_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        headers = _HEADERS[key] = {
            "Content-Type": content_type,
            "Accept-Ranges": "bytes",
            **UPLOAD_HEADERS,
            "Cache-Control": key[1],
            "X-Frame-Options": settings.X_FRAME_OPTIONS,
        }
    attachment = headers["Content-Type"] not in INLINE_CONTENT_TYPES
    disposition = content_disposition_header(attachment, file_name)
    return headers | {"Content-Disposition": disposition}


# What a 304 leaves out: it describes no body (as Django's own 304 does).
BODY_HEADERS = frozenset({"Content-Type", "Content-Disposition", "Accept-Ranges"})


def _finish(response, headers, etag: str, modified: int) -> HttpResponse:
    bodiless = response.status_code == HTTPStatus.NOT_MODIFIED
    for header, value in headers.items():
        if not (bodiless and header in BODY_HEADERS):
            response[header] = value
    response["ETag"] = etag
    response["Last-Modified"] = _http_date(modified)
    return response


@functools.lru_cache(maxsize=1024)
def _http_date(modified: int) -> str:
    return http_date(modified)

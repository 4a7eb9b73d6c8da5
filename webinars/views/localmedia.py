"""
Uploads on the local disk answered at static-file speed: by UploadFiles, a
WSGI wrapper round Django's application (fastopp.wsgi, as whitenoise's WSGI
mode), before Django builds a request or runs any middleware; and by
UploadFilesMiddleware, listed right after whitenoise's, for what the wrapper
passes on (and for Django's test client): no session, CSRF, auth or URL
resolving either way.

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
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.dispatch import receiver
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

from webinars import files, metrics, services
from webinars.views import requestlog
from webinars.views.media import (
    INLINE_CONTENT_TYPES,
    QUIET_ERRNOS,
    UPLOAD_HEADERS,
    is_servable_name,
    logger,
)
from webinars.views.metrics import enabled as metrics_enabled
from webinars.views.requestlog import RESPONSE_HEADER

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


class Answer:
    """What to answer for a found upload: a status, headers and maybe a body."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: list[tuple[str, str]], body=None):
        self.status, self.headers, self.body = status, headers, body


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


class UploadFiles:
    """
    The WSGI application: uploads found on the local disk are answered here,
    everything else by Django's application.

    Django's handler and middleware cost more than the file itself: this
    answers a found upload with the same headers the middleware stack gives
    it (site_headers()), and passes on anything else (a 404, an HTTPS
    redirect, a bucket, a stale list of withheld names) to be answered there.
    """

    def __init__(self, application):
        self.application = application
        # Counted here what MetricsMiddleware counts for the answers Django gives.
        self.count = metrics.media_response if metrics_enabled() else None

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith(settings.MEDIA_URL)
            or environ.get("REQUEST_METHOD") not in ("GET", "HEAD")
            or not files.is_local_storage()
        ):
            return self.application(environ, start_response)
        request = WSGIRequest(environ)
        withheld = services.withheld_names_cached()
        if withheld is None or (
            settings.SECURE_SSL_REDIRECT and not request.is_secure()
        ):
            return self.application(environ, start_response)
        name = request.path_info[len(settings.MEDIA_URL) :]
        with requestlog.bound(request):  # for the log lines of the checks
            try:
                answer = _found(request, name, withheld) or NOT_FOUND_ANSWER
            except Exception:  # Django's handler answers it, and logs as it does
                logger.exception("Upload %r passed on to Django after an error", name)
                return self.application(environ, start_response)
        if self.count is not None:
            self.count(answer.status)
        return _send(request, answer, environ, start_response)


def _send(request, answer: Answer, environ, start_response):
    headers = list(answer.headers)
    named = {header.lower() for header, _ in headers}
    headers += [
        h for h in site_headers(request.is_secure()) if h[0].lower() not in named
    ]
    headers.append((RESPONSE_HEADER, request.request_id))
    body = answer.body
    try:
        start_response(STATUS_LINES[answer.status], headers)
    except BaseException:
        if hasattr(body, "close"):
            body.close()
        raise
    # No request_started or request_finished: nothing here uses the database.
    if body is None or request.method == "HEAD":
        return []
    if isinstance(body, bytes):
        return [body]
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is None:
        return _Chunks(body)
    return wrapper(body, FileResponse.block_size)


class _Chunks:
    """A file's blocks, for a server without wsgi.file_wrapper; closed by it."""

    def __init__(self, body):
        self.body = body

    def __iter__(self):
        while chunk := self.body.read(FileResponse.block_size):
            yield chunk

    def close(self) -> None:
        self.body.close()


STATUS_LINES = {status: f"{status} {status.phrase}" for status in HTTPStatus}


@functools.cache
def site_headers(secure: bool) -> tuple[tuple[str, str], ...]:
    """
    The headers the middleware stack adds to an upload's answer (security
    headers, Permissions-Policy), found by running that stack's own classes
    once over an empty answer for a plain or a secure request.
    """
    from csp.middleware import CSPMiddleware
    from django.middleware.security import SecurityMiddleware
    from django_permissions_policy import PermissionsPolicyMiddleware

    def empty(request):
        return HttpResponse()

    request = HttpRequest()
    request.is_secure = lambda: secure
    # CSPMiddleware for CONTENT_SECURITY_POLICY_REPORT_ONLY, if it is set; its
    # enforced policy is never used: an upload carries its own.
    stack = CSPMiddleware(PermissionsPolicyMiddleware(SecurityMiddleware(empty)))
    response = stack(request)
    own = empty(request).headers
    return tuple((name, value) for name, value in response.items() if name not in own)


@receiver(setting_changed)
def _forget_site_headers(**kwargs) -> None:
    site_headers.cache_clear()
    _HEADERS.clear()  # they hold X_FRAME_OPTIONS


def serve_local(request: HttpRequest, name: str) -> HttpResponse:
    """Answer a GET or HEAD for the upload called name on the local disk."""
    answer = _found(request, name, services.withheld_names())
    return not_found() if answer is None else _response(answer)


def _found(request, name: str, withheld: frozenset[str]) -> Answer | None:
    """Answer for the upload called name, or None when there is none to serve."""
    if not GENERATED_NAME.fullmatch(name) and not is_servable_name(name):
        return None
    if name in withheld:  # deleted, but the volume kept it
        return None
    found = _lookup(name)
    if found is None:
        return None
    directory_fd, leaf, info = found
    try:
        return _answer(request, name, directory_fd, leaf, info)
    finally:
        if directory_fd != _root.fd:
            os.close(directory_fd)


NOT_FOUND_ANSWER = Answer(
    HTTPStatus.NOT_FOUND,
    [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(NOT_FOUND))),
        *UPLOAD_HEADERS.items(),
    ],
    NOT_FOUND,
)


def not_found() -> HttpResponse:
    """A plain 404 that costs nothing to render."""
    return _response(NOT_FOUND_ANSWER)


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


def _answer(request, name, directory_fd, leaf, info) -> Answer | None:
    modified, size = int(info.st_mtime), info.st_size
    etag = f'"{modified:x}-{size:x}"'
    headers = _headers_for(name)
    validators = [("ETag", etag), ("Last-Modified", _http_date(modified))]
    status = _precondition(request, etag, modified)
    if status == HTTPStatus.NOT_MODIFIED:
        kept = [(h, v) for h, v in headers.items() if h not in BODY_HEADERS]
        return Answer(status, kept + validators)
    constant = list(headers.items()) + validators
    # An empty body says so: without a length, gunicorn would end it with a
    # chunk of its own, a second small write a proxy waits for.
    empty = [*constant, ("Content-Length", "0")]
    if status is not None:
        return Answer(status, empty)
    if settings.MEDIA_ACCEL_REDIRECT:
        offload = ("X-Accel-Redirect", settings.MEDIA_ACCEL_REDIRECT + name)
        return Answer(HTTPStatus.OK, [*empty, offload])
    if settings.MEDIA_SENDFILE:
        offload = ("X-Sendfile", os.path.join(_root.real, name))
        return Answer(HTTPStatus.OK, [*empty, offload])
    span = _requested_range(request, etag, modified, size)
    if span == "unsatisfiable":
        unsatisfiable = ("Content-Range", f"bytes */{size}")
        return Answer(
            HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, [*empty, unsatisfiable]
        )
    if request.method == "HEAD":
        return Answer(HTTPStatus.OK, [*constant, ("Content-Length", str(size))])
    file = _open(name, directory_fd, leaf, info)
    if file is None:
        return None
    if span is None:
        return Answer(HTTPStatus.OK, [*constant, ("Content-Length", str(size))], file)
    first, last = span
    file.seek(first)  # gunicorn's sendfile() starts at the file's offset
    part = [
        ("Content-Range", f"bytes {first}-{last}/{size}"),
        ("Content-Length", str(last - first + 1)),
    ]
    return Answer(
        HTTPStatus.PARTIAL_CONTENT, constant + part, _Span(file, last - first + 1)
    )


def _response(answer: Answer) -> HttpResponse:
    """The answer as a Django response, for the middleware."""
    if isinstance(answer.body, bytes):
        response = HttpResponse(answer.body, status=answer.status)
    elif answer.body is not None:
        response = _UploadResponse(answer.body, status=answer.status)
    elif answer.status == HTTPStatus.NOT_MODIFIED:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(status=answer.status)
    for header, value in answer.headers:
        response[header] = value
    return response


def _precondition(request, etag: str, modified: int) -> int | None:
    """304 or 412 when the request's validators say so, else None."""
    meta = request.META
    if "HTTP_IF_MATCH" in meta or "HTTP_IF_UNMODIFIED_SINCE" in meta:
        response = get_conditional_response(request, etag=etag, last_modified=modified)
        return None if response is None else response.status_code
    if_none_match = meta.get("HTTP_IF_NONE_MATCH")
    if if_none_match == etag:  # what browsers send back: no parsing
        return HTTPStatus.NOT_MODIFIED
    if if_none_match is not None:
        tags = parse_etags(if_none_match)
        matched = "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)
    elif since := meta.get("HTTP_IF_MODIFIED_SINCE"):
        since = parse_http_date_safe(since)
        matched = since is not None and modified <= since
    else:
        return None
    return HTTPStatus.NOT_MODIFIED if matched else None


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


@functools.lru_cache(maxsize=1024)
def _http_date(modified: int) -> str:
    return http_date(modified)

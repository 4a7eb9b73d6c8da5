"""
Errors raised by views, answered in the request's format (views.access),
whitenoise kept away from uploads, and the session's idle timeout.
"""

from __future__ import annotations

import errno
import logging
import tempfile
import time
from http import HTTPStatus

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, UnreadablePostError
from django.template.loader import render_to_string
from whitenoise.middleware import WhiteNoiseMiddleware

from webinars import metrics
from webinars.files import StorageFault
from webinars.models import Registrant
from webinars.uploadhandler import max_upload_bytes, too_large_message
from webinars.views.access import (
    json_error,
    refuse,
    storage_fault_status,
    wants_json,
)
from webinars.views.errors import error_response

SPOOL_FAULTS = {
    errno.ENOSPC: StorageFault("the server's temporary upload space is full", "full"),
    errno.EDQUOT: StorageFault("the server's temporary upload space is full", "full"),
}
SPOOL_FAILED = StorageFault("the server could not receive the upload", "failed")
# Room for a form's boundaries and other fields beside a photo at the limit.
FORM_MARGIN_BYTES = 64 * 1024

logger = logging.getLogger(__name__)


class ErrorResponseMiddleware:
    """
    Answer a 404 and a 405 in JSON for JSON clients, and a 503, not a 500,
    while the database is unreachable. A registrant deleted while the request
    ran is a 404 too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == HTTPStatus.METHOD_NOT_ALLOWED and wants_json(
            request
        ):
            return self._method_not_allowed(request, response)
        return response

    def _method_not_allowed(self, request, response):
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        allowed = response.get("Allow", "")
        answer = json_error(
            f"{request.method} is not allowed here; use {allowed or 'another method'}.",
            HTTPStatus.METHOD_NOT_ALLOWED,
        )
        answer["Allow"] = allowed
        return answer

    def process_exception(self, request, exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self._database_unavailable(request, exception)
        if isinstance(exception, Registrant.DoesNotExist):
            if not wants_json(request):
                raise Http404("No such registrant.") from exception
            return json_error("No such registrant.", HTTPStatus.NOT_FOUND)
        if isinstance(exception, Http404) and wants_json(request):
            return json_error(str(exception) or "Not found.", HTTPStatus.NOT_FOUND)
        return None  # Django's own answer

    def _database_unavailable(self, request, exception):
        logger.error(
            "Database unavailable for %s %s: %s",
            request.method,
            request.path,
            exception,
        )
        message = "The database is unavailable right now. Please try again in a minute."
        if wants_json(request):
            response = json_error(message, HTTPStatus.SERVICE_UNAVAILABLE)
        else:
            # Rendered without the request: its session and user need the
            # database too.
            response = HttpResponse(
                render_to_string("503.html", {"message": message}),
                status=HTTPStatus.SERVICE_UNAVAILABLE,
            )
        response["Retry-After"] = "60"
        return response


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """
    Whitenoise, which never answers below MEDIA_URL: uploads are
    webinars.views.media's, even if a file there reached STATIC_ROOT (an
    older collectstatic) or got past the finder.
    """

    def __call__(self, request):
        if request.path_info.startswith(settings.MEDIA_URL):
            return self.get_response(request)
        return super().__call__(request)


class SessionIdleMiddleware:
    """
    Renew a signed-in session's expiry (SESSION_COOKIE_AGE, from
    SESSION_IDLE_MINUTES) as it is used, so that it ends after that long
    idle; at most once a minute, and never for photo requests, which must
    not cost a database query.
    """

    RENEW_AFTER_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(settings.MEDIA_URL) and (
            self._signed_in(request)
        ):
            now = int(time.time())
            if now - request.session.get("seen_at", 0) >= self.RENEW_AFTER_SECONDS:
                request.session["seen_at"] = now  # saved with a new expiry
        return self.get_response(request)

    def _signed_in(self, request) -> bool:
        try:
            return request.user.is_authenticated
        except (OperationalError, InterfaceError):
            # The database is down: the view, reaching it too, answers 503.
            return False


def _refused_unread(request, view_func):
    """
    Refuse, without reading a byte of the body, a write by a user the view's
    staff gate turns away, and a body longer than any photo upload can be.
    """
    gate = getattr(view_func, "staff_gate", None)
    if gate is not None and not gate(request.user):
        return refuse(request)
    if "CONTENT_LENGTH" not in request.META and request.META.get(
        "HTTP_TRANSFER_ENCODING"
    ):
        # Django reads no body without a length; say so rather than let the
        # form report a missing photo. gunicorn drains at most 64 KB of it.
        message = (
            "Send the upload with a Content-Length header; "
            "chunked request bodies are not accepted."
        )
        return error_response(request, "400.html", message, HTTPStatus.LENGTH_REQUIRED)
    if request.upload_max_bytes is not None:
        return None  # a view of its own limit (a bulk import) refuses itself
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None  # Django answers a nonsense length itself
    if length <= max_upload_bytes() + FORM_MARGIN_BYTES:
        return None
    logger.warning("Upload refused unread: its body is %d bytes", length)
    metrics.upload_refused("file_too_large")
    return error_response(
        request,
        "400.html",
        too_large_message(length),
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    )


class RequestBodyMiddleware:
    """
    Refuse a write before its body is read when the user may not make it or
    it is larger than an upload may be. Read a POST's body before CSRF does,
    and answer a failure to spool its uploads to the temporary directory
    (FILE_UPLOAD_TEMP_DIR, or TMPDIR):
    507 when it is full, 503 otherwise, and 400 for a client that hung up,
    in the request's format and with a log line, not a 500. List it just
    before CsrfViewMiddleware, which would read the body first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST":
            return None
        # A view's own upload limit (a callable), for webinars.uploadhandler.
        limit = getattr(view_func, "upload_max_bytes", None)
        request.upload_max_bytes = limit() if limit else None
        refused = _refused_unread(request, view_func)
        if refused is not None:
            return refused
        # A client that stops sending mid-body frees its thread after this
        # long (a read that times out is the 400 below), however gunicorn
        # left the socket. Under runserver there is no such socket.
        client = request.META.get("gunicorn.socket")
        if client is not None:
            client.settimeout(settings.REQUEST_READ_TIMEOUT)
        try:
            request.POST  # noqa: B018 (parses the body and spools its files)
        except UnreadablePostError as exc:
            logger.warning("Request body cut off by the client: %s", exc)
            message = "The upload was cut off before it arrived whole. Send it again."
            return error_response(request, "400.html", message, HTTPStatus.BAD_REQUEST)
        except OSError as exc:
            return self._spool_failed(request, exc)
        return None

    def _spool_failed(self, request, exc):
        # Free the space the half-spooled file holds, now rather than at GC.
        for handler in request.upload_handlers:
            if getattr(handler, "file", None) is not None:
                handler.file.close()
        fault = SPOOL_FAULTS.get(exc.errno, SPOOL_FAILED)
        logger.error(
            "Upload not received: the temporary directory %s failed: %s",
            settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir(),
            exc,
        )
        status = storage_fault_status(fault)
        return error_response(request, "503.html", fault.message, status)
